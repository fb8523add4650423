"""Correct and resend: a bounced or refused row goes out again, linked, exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from reports import dsn, original_headers
from sendkit import people, write_job
from smtp_server import FaultHandler, FaultServer

from mailkit.cli import main
from mailkit.correction import CorrectionRun
from mailkit.delivery import Evidence, transaction
from mailkit.errors import DataError
from mailkit.inbound import parse
from mailkit.job import load_job
from mailkit.logview import bounced_rows, delivery_rows
from mailkit.outbox import Outbox
from mailkit.sending import SendRequest, SendRun

JOB = """
[destination]
kind = "smtp"

[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
"""


def sent_batch(tmp: Path, server: FaultServer, rows: list[list[str]]) -> tuple[Path, str, Path]:
    job_path = write_job(tmp, rows, rest=JOB.format(port=server.port))
    outbox = tmp / "o.sqlite3"
    run = SendRun(load_job(job_path), SendRequest(outbox=outbox), confirm=bool)
    asyncio.run(run.run())
    return job_path, run.batch, outbox


def bounce_recorded(outbox: Path, message_id: str, recipient: str) -> None:
    """A DSN saying ``recipient`` is unknown, recorded as the sync records it."""
    report = parse(dsn(action="failed", recipient=recipient, status="5.1.1",
                       diagnostic="550 5.1.1 user unknown",
                       original_headers=original_headers(message_id, recipient)))  # fmt: skip
    assert report is not None
    with Outbox(outbox) as box:
        evidence = Evidence(box.db)
        with transaction(box.db, box.path):
            evidence.record("kadry", "INBOX", 1, report)


def correct(job_path: Path, key: str, outbox: Path, address: str = "") -> CorrectionRun:
    run = CorrectionRun(
        load_job(job_path), key, SendRequest(outbox=outbox), address=address, confirm=bool
    )
    asyncio.run(run.run())
    return run


def test_bounced_row_sent_again_to_a_new_address_once(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job_path, batch, outbox = sent_batch(tmp_path, server, people(3))
        first = {s.rcpt_tos[0]: s.message_id for s in server.stored}
        assert first["osoba2@example.org"] is not None
        bounce_recorded(outbox, first["osoba2@example.org"], "osoba2@example.org")
        (bounced,) = bounced_rows(batch, outbox=outbox)
        assert bounced["key"] == "P002" and "user unknown" in bounced["reason"]
        run = correct(job_path, "P002", outbox, "osoba2@poprawny.example.org")
        assert run.correction is not None and run.correction.key == "P002~1"
        stored = server.stored[-1]
        assert stored.rcpt_tos == ("osoba2@poprawny.example.org",)
        assert stored.message_id not in first.values()
        assert b"To: osoba2@poprawny.example.org" in stored.data
        assert len(server.stored) == 4
        with pytest.raises(DataError, match="already sent again"):
            correct(job_path, "P002", outbox, "osoba2@poprawny.example.org")
        # A normal send of the whole batch sends nothing more.
        asyncio.run(SendRun(load_job(job_path), SendRequest(outbox=outbox), confirm=bool).run())
        assert len(server.stored) == 4
    rows = {r["key"]: r for r in delivery_rows(batch, outbox=outbox)}
    assert rows["P002"]["corrected_by"] == "P002~1"
    assert rows["P002"]["delivery"] == "bounced"  # the original's evidence is kept
    assert rows["P002~1"]["state"] == "sent"
    with Outbox(outbox) as box:
        history = [h[1] for h in box.history(batch, "P002")]
    assert history[-1] == "corrected"


def test_refused_row_resent_from_the_corrected_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = FaultHandler(refuse={"osoba1@example.org": "550 5.1.1 no such user"})
    rows = people(2)
    with FaultServer(handler, tmp=tmp_path) as server:
        job_path, batch, outbox = sent_batch(tmp_path, server, rows)
        (refused,) = bounced_rows(batch, outbox=outbox)
        assert refused["state"] == "failed" and "user unknown" in refused["reason"]
        with pytest.raises(DataError, match="again"):  # the table still has the bad address
            correct(job_path, "P001", outbox)
        with pytest.raises(DataError, match="no row P404"):
            correct(job_path, "P404", outbox)
        rows[1][2] = "osoba1@naprawiony.example.org"
        write_job(tmp_path, rows, rest=JOB.format(port=server.port))
        args = ["resend", str(job_path), "--row", "P001", "--yes", "--outbox", str(outbox)]
        assert main(args) == 0
        assert "P001~1" in capsys.readouterr().out
        assert server.stored[-1].rcpt_tos == ("osoba1@naprawiony.example.org",)
