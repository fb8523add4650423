"""The mailer log: real batches write it, it rotates, it filters and exports, it keeps no secret."""

from __future__ import annotations

import base64
import csv
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sendkit import FAST, journal, load, people, send, smtp_settings, write_job
from smtp_server import FaultServer

from mailkit.cli import main
from mailkit.config import Secret
from mailkit.logview import export_rows, mailer_log
from mailkit.mailerlog import LogEntry, MailerLog, default_log_dir, event, log_scope, parse_since
from mailkit.outbox import Outbox


@pytest.fixture
def debug_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every library's log at DEBUG into one file, and the mailer log at DEBUG too."""
    monkeypatch.setenv("MAILKIT_LOG_LEVEL", "debug")
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old)
    handler.close()


def test_batch_logs_tls_retries_pauses_and_refusals(tmp_path: Path) -> None:
    with FaultServer(tls="starttls", tmp=tmp_path) as server:
        h = server.handler
        h.replies["DATA"] = ["451 4.3.0 try again later", "421 4.7.0 slow down"]
        h.refuse["osoba3@example.org"] = "550 5.1.1 no such user"
        job = load(write_job(tmp_path, people(4)))
        with Outbox(tmp_path / "o.db") as box:
            journal(job, box)
            report = send(box, job.name, smtp_settings(server), FAST)
    assert report.counts
    entries = mailer_log(batch=job.name)
    events = [e.event for e in entries]
    assert events[0] == "batch-start" and events[-1] == "batch-end"
    connect = next(e for e in entries if e.event == "connect")
    assert "TLSv1." in connect.details and "security=starttls" in connect.details
    assert connect.where == f"localhost:{server.port}"
    retry = next(e for e in entries if e.event == "retry")
    assert (retry.code, retry.status) == (451, "4.3.0")
    assert any(e.event == "pause" for e in entries)  # 421: the whole batch slows down
    failed = next(e for e in entries if e.event == "failed")
    assert (failed.key, failed.code, failed.status) == ("P003", 550, "5.1.1")
    assert mailer_log(batch="another batch") == []
    assert [e.event for e in mailer_log(batch=job.name, level="error")] == ["failed"]


def test_login_failure_at_debug_leaves_no_password_anywhere(
    tmp_path: Path, debug_everything: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = f"MARKER-{uuid.uuid4().hex}"
    with FaultServer(tls="starttls", users={"kadry": "right"}, tmp=tmp_path) as server:
        job = load(write_job(tmp_path, people(3)))
        settings = smtp_settings(server, username="kadry", password=Secret(marker))
        with log_scope(account="Kadry"), Outbox(tmp_path / "o.db") as box:
            journal(job, box)
            report = send(box, job.name, settings, FAST)
    assert report.stopped
    login = next(e for e in mailer_log(account="kadry") if e.event == "auth-failed")
    assert login.code == 535 and "kadry" in login.message
    exported = [export_rows(mailer_log(), tmp_path / f"log.{x}") for x in ("csv", "xlsx")]
    assert main(["log", "--account", "Kadry", "--level", "debug"]) == 0
    printed = capsys.readouterr()
    forms = [marker, base64.b64encode(f"\0kadry\0{marker}".encode()).decode()]
    assert "auth-failed" in debug_everything.read_text(encoding="utf-8")  # it did log, at DEBUG
    places = [*MailerLog().files(), debug_everything, *exported[:1]]
    for path in places:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not any(f in text for f in forms), path
    sheet = load_workbook(exported[1]).active
    assert sheet is not None
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "auth-failed" in cells and marker not in cells
    assert marker not in printed.out + printed.err


def test_rotation_filters_since_and_formula_safe_export(tmp_path: Path) -> None:
    log = MailerLog(tmp_path / "logs", max_bytes=2000, backups=2)
    for n in range(60):
        log.write(LogEntry(f"2026-05-01T10:{n:02d}:00+00:00", "info", "retry", f"row {n}",
                           batch="B", account="A", code=451))  # fmt: skip
    assert [p.name for p in log.files()] == ["mailer.jsonl.2", "mailer.jsonl.1", "mailer.jsonl"]
    kept = list(log.entries())
    assert 0 < len(kept) < 60 and kept[-1].message == "row 59"  # the oldest rotated away
    since = parse_since("2026-05-01T10:50:00+00:00")
    assert [e.message for e in log.query(since=since, limit=3)] == ["row 57", "row 58", "row 59"]
    assert parse_since("2h", now=10_000.0) == 10_000.0 - 7200
    with pytest.raises(ValueError, match="Invalid"):
        parse_since("yesterday")
    event("error", '=HYPERLINK("http://x")', level="error", batch="B")
    path = export_rows(MailerLog().query(batch="B"), tmp_path / "x.csv")
    with path.open(encoding="utf-8-sig") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["message"].startswith("'=HYPERLINK")


def test_log_files_are_private_and_the_cli_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with log_scope(batch="Paski 05", account="kadry@firma"):
        event("connect", "connected", where="smtp.firma:587", details="TLSv1.3")
    event("sync", "seen 3", account="Kadry")
    assert (default_log_dir() / "mailer.jsonl").stat().st_mode & 0o777 == 0o600
    assert main(["log", "--batch", "Paski 05"]) == 0
    printed = capsys.readouterr().out
    assert "connected" in printed and "seen 3" not in printed
    assert main(["log", "--since", "soon"]) == 2
    assert main(["log", "--since", "5m", "--export", str(tmp_path / "l.xlsx")]) == 0
    assert (tmp_path / "l.xlsx").exists()
    assert time.time() - mailer_log()[-1].time < 60
