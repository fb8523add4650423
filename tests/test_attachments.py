"""Files matched to rows, attachment names, and protected jobs built on several processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from payroll import LAST, attachments_of, employee, pdf_text, pesel, write_payroll
from processes import running

import mailkit
from mailkit.documents import Document, render_pdf
from mailkit.fonts import find_font
from mailkit.merge import Built
from mailkit.parallel import parallel_messages, usable_cpus

FILES = """
[attachments]
files = "{files}"

[protection]
enabled = {enabled}
"""


def files_job(
    tmp_path: Path, pattern: str = "paski/{{id}}.pdf", enabled: str = "false", **kwargs: object
) -> Path:
    return write_payroll(tmp_path, FILES.format(files=pattern, enabled=enabled), **kwargs)


def pdf_for(path: Path, who: str) -> Path:
    """A real one-page PDF naming ``who``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = Document(f"document of {who}", "Firma", (), who, ())
    path.write_bytes(render_pdf(doc, font=find_font(), lang="pl"))
    return path


def test_files_matched_by_pattern_are_attached_under_neutral_names(tmp_path: Path) -> None:
    for i in (1, 2, 3):
        pdf_for(tmp_path / "paski" / f"P{i}.pdf", f"P{i}")
    merge = mailkit.prepare(mailkit.load_job(files_job(tmp_path)))
    report = mailkit.preflight(merge)
    assert report.ok, report.lines()
    draft = merge.draft(merge.record("P2"))
    (attachment,) = draft.attachments
    assert attachment.filename == "zalacznik.pdf"
    assert attachment.content == (tmp_path / "paski" / "P2.pdf").read_bytes()
    assert attachment.protection == ""


def test_missing_files_and_files_claimed_twice_are_listed_by_row(tmp_path: Path) -> None:
    """RELIABILITY 24."""
    rows = [employee(i) for i in (1, 2, 3, 4)]
    for row, period in zip(rows, ["a", "b", "wspolny", "wspolny"], strict=True):
        row[5] = period
    pdf_for(tmp_path / "paski" / "a.pdf", "P1")
    pdf_for(tmp_path / "paski" / "wspolny.pdf", "P3 or P4?")
    job = files_job(tmp_path, "paski/{{okres}}.pdf", rows=rows)
    report = mailkit.preflight(mailkit.prepare(mailkit.load_job(job)))
    errors = {e.row: e for e in report.errors}
    assert sorted(errors) == ["P2", "P3", "P4"]
    assert {e.code for e in errors.values()} == {"attachment"}
    assert "b.pdf cannot be read" in errors["P2"].message
    assert "also matched to row(s) P4" in errors["P3"].message
    assert "also matched to row(s) P3" in errors["P4"].message
    assert [r.key for r in report.rows] == ["P1"]


def test_a_column_can_name_each_row_file(tmp_path: Path) -> None:
    rows = [employee(1), employee(2)]
    rows[0][5], rows[1][5] = "dokumenty/jeden.pdf", ""
    pdf_for(tmp_path / "dokumenty" / "jeden.pdf", "P1")
    job = write_payroll(
        tmp_path, '[attachments]\npath_field = "okres"\n[protection]\nenabled = false\n', rows=rows
    )
    merge = mailkit.prepare(mailkit.load_job(job))
    (attachment,) = merge.draft(merge.record("P1")).attachments
    assert attachment.content == (tmp_path / "dokumenty" / "jeden.pdf").read_bytes()
    (error,) = mailkit.preflight(merge).errors
    assert error.row == "P2"
    assert "no file to attach" in error.message


def test_a_value_cannot_lead_the_pattern_out_of_its_folder(tmp_path: Path) -> None:
    rows = [employee(1)]
    rows[0][5] = "../../etc"
    (tmp_path / "paski").mkdir()
    report = mailkit.preflight(
        mailkit.prepare(mailkit.load_job(files_job(tmp_path, "paski/{{okres}}.pdf", rows=rows)))
    )
    (error,) = report.errors
    assert "not a file name" in error.message


def test_other_files_are_zipped_and_pdfs_encrypted_when_protected(tmp_path: Path) -> None:
    docs = tmp_path / "paski"
    pdf_for(docs / "P1.pdf", "P1")
    (docs / "P1.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    job = write_payroll(
        tmp_path,
        '[attachments]\nfiles = ["paski/{id}.pdf", "paski/{id}.xlsx"]\n'
        'name = "dokumenty-{okres}"\n',
        count=1,
    )
    merge = mailkit.prepare(mailkit.load_job(job))
    draft = merge.draft(merge.record("P1"))
    shown = {a.filename: a.protection for a in draft.attachments}
    assert shown == {"dokumenty-10-2026.pdf": "PDF AES-256", "zalaczniki.zip": "ZIP AES-256"}
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(next(a.content for a in draft.attachments if a.filename.endswith(".pdf")))
    assert "document of P1" in pdf_text(pdf, pesel(1)).stdout


def test_names_that_reveal_a_person_are_warned_about(tmp_path: Path) -> None:
    pdf_for(tmp_path / "paski" / "P1.pdf", "P1")
    job = files_job(tmp_path, count=1)
    job.write_text(
        job.read_text(encoding="utf-8").replace(
            "[protection]", 'name = "pasek-{nazwisko}"\n[protection]'
        ),
        encoding="utf-8",
    )
    merge = mailkit.prepare(mailkit.load_job(job))
    report = mailkit.preflight(merge)
    (warning,) = report.warnings
    assert warning.code == "revealing-name"
    assert "{nazwisko}" in warning.message
    (attachment,) = merge.draft(merge.record("P1")).attachments
    assert attachment.filename == f"pasek-{LAST[1]}.pdf"  # as asked, but warned


def test_two_processes_build_the_same_messages_in_order(tmp_path: Path) -> None:
    job = write_payroll(tmp_path, '[attachments]\ngenerate = "payslip"\n', count=12)
    merge = mailkit.prepare(mailkit.load_job(job))
    ticks: list[tuple[int, int]] = []
    parallel = list(merge.messages(workers=2, progress=lambda d, t: ticks.append((d, t))))
    single = list(merge.messages(workers=1))
    assert [b.record.key for b in parallel] == [f"P{i}" for i in range(1, 13)]
    assert ticks[-1] == (12, 12)
    for one, two in zip(single, parallel, strict=True):
        assert one.error is None
        assert two.error is None
        assert two.record is merge.record(one.record.key)
        assert one.draft is not None
        assert two.draft is not None
        assert two.draft.subject == one.draft.subject
        assert [a.filename for a in two.draft.attachments] == ["pasek-wynagrodzen.pdf"]
    for i in (1, 12):
        built: Built = parallel[i - 1]
        assert built.message is not None
        pdf = tmp_path / f"{i}.pdf"
        pdf.write_bytes(attachments_of(built.message.data)["pasek-wynagrodzen.pdf"])
        assert pdf_text(pdf, pesel(i)).returncode == 0
        assert pdf_text(pdf, pesel(2)).returncode != 0


def test_parallel_build_can_be_cancelled_and_reports_row_errors(tmp_path: Path) -> None:
    rows = [employee(i) for i in range(1, 25)]
    rows[4][3] = ""  # P5 is held
    job = write_payroll(tmp_path, '[attachments]\ngenerate = "payslip"\n', rows=rows)
    merge = mailkit.prepare(mailkit.load_job(job))
    seen: list[Built] = []
    for built in merge.messages(workers=2, cancel=lambda: len(seen) >= 10):
        seen.append(built)
    assert len(seen) == 10
    errors = [b for b in seen if b.error is not None]
    assert [b.record.key for b in errors] == ["P5"]
    assert "held" in str(errors[0].error)


def test_export_of_a_protected_job_uses_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def spy(merge: mailkit.Merge, rows: list[object], workers: int, *args: object) -> object:
        calls.append(workers)
        return parallel_messages(merge, rows, workers, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("mailkit.merge.MIN_ROWS", 4)
    monkeypatch.setattr("mailkit.merge.parallel_messages", spy)
    job = write_payroll(tmp_path, '[attachments]\ngenerate = "payslip"\n', count=6)
    merge = mailkit.prepare(mailkit.load_job(job))
    result = asyncio.run(mailkit.export_drafts(merge, tmp_path / "out"))
    assert calls == ([usable_cpus()] if usable_cpus() > 1 else [])
    assert len(result.written) == 6
    assert not result.skipped


WORKER_SCRIPT = """
import sys, time
import mailkit

if __name__ == "__main__":
    merge = mailkit.prepare(mailkit.load_job(sys.argv[1]))
    for built in merge.messages(workers=2):
        print("built", flush=True)
        time.sleep(600)  # killed here, with the workers busy or waiting
"""


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except (ValueError, OSError, IndexError):
            continue
    family = {root}
    while grown := {p for p, parent in parents.items() if parent in family} - family:
        family |= grown
    return family - {root}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_end_when_their_owner_is_killed(tmp_path: Path) -> None:
    """A killed kernel or CLI leaves no worker processes (and their memory) behind."""
    job = write_payroll(tmp_path, '[attachments]\ngenerate = "payslip"\n', count=40)
    script = tmp_path / "owner.py"
    script.write_text(WORKER_SCRIPT, encoding="utf-8")
    owner = subprocess.Popen(
        [sys.executable, str(script), str(job)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline() == "built\n"
        helpers = _descendants(owner.pid)
        assert len(helpers) >= 3  # the forkserver and two workers
    finally:
        owner.kill()
        owner.wait(timeout=10)
    deadline = time.monotonic() + 15
    alive = helpers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in helpers if running(p)}
    for pid in alive:  # a failing run must not leave them behind either
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"processes left behind: {sorted(alive)}"


NO_GUARD_SCRIPT = """
import sys
import mailkit

print("top level", flush=True)  # no __main__ guard: the workers must not run this again
merge = mailkit.prepare(mailkit.load_job(sys.argv[1]))
built = list(merge.messages(workers=2))
print(len(built), sum(b.message is not None for b in built), flush=True)
"""


def test_a_script_without_main_guard_still_uses_the_workers(tmp_path: Path) -> None:
    job = write_payroll(tmp_path, '[attachments]\ngenerate = "payslip"\n', count=10)
    script = tmp_path / "plain.py"
    script.write_text(NO_GUARD_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(job)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["top level", "10 10"]
