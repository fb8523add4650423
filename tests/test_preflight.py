"""Preflight renders and checks every row before anything is sent (RELIABILITY 18-19, 22-25)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl
import pytest

import mailkit
from mailkit.data import write_report
from mailkit.errors import TemplateError

HEADERS = ["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"]


def prepare(job: Path) -> mailkit.Merge:
    return mailkit.prepare(mailkit.load_job(job))


def test_clean_job_is_ready(employees_job) -> None:
    report = mailkit.preflight(prepare(employees_job()))
    assert report.ok
    assert [r.key for r in report.rows] == ["P1", "P2"]
    assert report.rows[0].to == "Zofia Wójcik <zofia@example.com>"
    assert report.summary() == "Test payslips: 2 of 2 messages ready, 0 error(s), 0 warning(s)"


def test_case_22_macro_typo_fails_before_any_send(employees_job, write_job) -> None:
    path = employees_job()
    text = path.read_text(encoding="utf-8").replace("{imię}, do", "{imie}, do")
    with pytest.raises(TemplateError, match=r"Unknown macro \{imie\}.*Did you mean \{imię\}"):
        prepare(write_job(text))


def test_case_22_empty_amount_is_a_finding_never_nan(employees_job, write_job) -> None:
    rows = [
        HEADERS,
        ["P1", "Ala", "Nowak", "02270803624", "ala@example.com", ""],
        ["P2", "Ola", "Lis", "85010112345", "ola@example.com", "10"],
    ]
    path = employees_job(rows)
    text = path.read_text(encoding="utf-8").replace(
        'kwota = { column = "Kwota", type = "money" }',
        'kwota = { column = "Kwota", type = "money", required = true }',
    )
    merge = prepare(write_job(text))
    report = mailkit.preflight(merge)
    assert not report.ok
    (finding,) = report.errors
    assert (finding.row, finding.column, finding.code) == ("P1", "Kwota", "missing")
    assert [r.key for r in report.rows] == ["P2"]
    assert "nan" not in mailkit.preview(merge, "P2").lower()


def test_optional_empty_amount_renders_empty_not_nan(employees_job) -> None:
    rows = [HEADERS, ["P1", "Ala", "Nowak", "02270803624", "ala@example.com", ""]]
    text = mailkit.preview(prepare(employees_job(rows)), "P1")
    assert "do wypłaty ." in text and "nan" not in text.lower() and "None" not in text


def test_case_23_cp1250_semicolons_leading_zero_and_duplicates(employees_job) -> None:
    rows = [
        HEADERS,
        ["P1", "Łucja", "Żak", "02270803624", "lucja@example.com", "1 234,56"],
        ["P1", "Łucja", "Żak", "02270803624", "lucja@example.com", "1 234,56"],
    ]
    merge = prepare(employees_job(rows, encoding="cp1250", delimiter=";"))
    assert merge.records.table.encoding == "cp1250"
    assert merge.records.table.delimiter == ";"
    assert merge.record("P1").values["pesel"] == "02270803624"
    report = mailkit.preflight(merge)
    assert [(f.line, f.code) for f in report.errors] == [(3, "duplicate-row")]
    assert "Łucja" in mailkit.preview(merge, "P1")


def test_case_19_bcc_never_in_the_bytes_and_once_in_the_envelope(employees_job) -> None:
    merge = prepare(employees_job())
    built = [b.message for b in merge.messages()]
    for out in built:
        assert out is not None
        assert b"archiwum@firma.example.com" not in out.data
        assert b"\nBcc:" not in out.data and not out.data.startswith(b"Bcc:")
        assert out.recipients.count("archiwum@firma.example.com") == 1
    transport = mailkit.MemoryTransport()

    async def send_all() -> None:
        async with transport:
            for out in built:
                assert out is not None
                await transport.send(out)

    asyncio.run(send_all())
    assert len(transport.sent) == 2


def test_case_18_idn_and_non_ascii_local_part(employees_job) -> None:
    rows = [
        HEADERS,
        ["P1", "Jan", "Nowak", "02270803624", "jan@przykład.pl", "1"],
        ["P2", "Ula", "Lis", "85010112345", "użytkownik@przykład.pl", "1"],
    ]
    merge = prepare(employees_job(rows))
    report = mailkit.preflight(merge)
    p1 = next(b.message for b in merge.messages() if b.record.key == "P1")
    assert p1 is not None and "jan@xn--przykad-rjb.pl" in p1.recipients
    (warning,) = report.warnings
    assert (warning.row, warning.code) == ("P2", "smtputf8")
    assert "SMTPUTF8" in warning.message


def test_case_25_report_export_neutralises_formulas(tmp_path: Path, employees_job) -> None:
    rows = [
        HEADERS,
        [
            '=HYPERLINK("http://evil.example","x")',
            "Ala",
            "Nowak",
            "02270803625",
            "ala@example.com",
            "1",
        ],
    ]
    report = mailkit.preflight(prepare(employees_job(rows)))
    csv_path = write_report(report.table(), tmp_path / "r.csv")
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    xlsx_path = write_report(report.table(), tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(xlsx_path).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("'=") for c in cells)


def test_progress_and_cancel(employees_job) -> None:
    merge = prepare(employees_job())
    seen: list[tuple[int, int]] = []
    report = mailkit.preflight(merge, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (2, 2)
    cancelled = mailkit.preflight(merge, cancel=lambda: True)
    assert cancelled.cancelled and not cancelled.ok
    assert report.ok


def test_size_limit_from_the_server(employees_job) -> None:
    report = mailkit.preflight(prepare(employees_job()), size_limit=100)
    assert {f.code for f in report.errors} == {"size"}
