"""A real MTA answers: Postfix bounces an unknown recipient with its own DSN, reports a delivery,
delivers both to the sender's mailbox that Dovecot serves, and the sync reads them back."""

from __future__ import annotations

import asyncio
import os
import pwd
import time
from pathlib import Path

import pytest
from dovecot import Dovecot
from postfix import Postfix
from sendkit import people, write_job

from mailkit.imap import ImapClient
from mailkit.job import load_job
from mailkit.logview import delivery_rows
from mailkit.sending import SendRequest, SendRun
from mailkit.syncing import SyncRun

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="Postfix's master daemon runs as root (CI runs as root)"
)

JOB = """
[batch.dsn]
notify = ["OnSuccess", "OnFailure"]

[destination]
kind = "smtp"

[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
"""


def test_postfix_bounce_and_delivery_report_are_read_back(tmp_path: Path) -> None:
    with Dovecot() as dovecot:
        nobody = pwd.getpwnam("nobody")  # Dovecot's mail user when run as root (tests/dovecot.py)
        with ImapClient(dovecot.settings()) as imap:  # a first login makes the Maildir
            imap.select("INBOX")
        boxes = {"kadry@firma.example.com": "ala/", "osoba1@klient.example.net": "osoba1/"}
        with Postfix(dovecot.root / "mail", boxes, nobody.pw_uid, nobody.pw_gid) as mta:
            job_path = write_job(tmp_path, people(2, domain="klient.example.net"),
                                 rest=JOB.format(port=mta.port))  # fmt: skip
            outbox = tmp_path / "o.sqlite3"
            run = SendRun(load_job(job_path), SendRequest(outbox=outbox), confirm=bool)
            outcome = asyncio.run(run.run())
            assert outcome.report is not None and outcome.report.outcome == "sent"
            deadline = time.monotonic() + 30
            while len(dovecot.messages("INBOX")) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(dovecot.messages("INBOX")) == 2, mta.log()
        report = asyncio.run(SyncRun("kadry", dovecot.settings(), outbox).run())
    assert report.outcomes == {"delivered": 1, "bounced": 1}
    assert report.unmatched == 0
    rows = {r["key"]: r for r in delivery_rows(run.batch, outbox=outbox)}
    assert rows["P001"]["delivery"] == "delivered"
    assert rows["P002"]["delivery"] == "bounced"
    assert rows["P002"]["delivery_status"] == "5.1.1"
    assert "user unknown" in rows["P002"]["reason"]
    assert "osoba2@klient.example.net" in rows["P002"]["diagnostic"]
