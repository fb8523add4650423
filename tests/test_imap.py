"""IMAP against a real Dovecot: the helper, copies to Sent after a batch, the Drafts mode."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from dovecot import Dovecot
from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.config import Secret, Security
from mailkit.destinations import Passwords
from mailkit.errors import AuthError, SecurityError
from mailkit.imap import ImapClient
from mailkit.job import load_job
from mailkit.outbox import Outbox
from mailkit.sending import SendRequest, SendRun


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def ids(raw: list[bytes]) -> list[str]:
    return sorted(str(message_from_bytes(m)["Message-ID"]) for m in raw)


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_helper_lists_appends_searches_and_fetches(dovecot: Dovecot, security: Security) -> None:
    data = b"Subject: test\r\nMessage-ID: <h1@firma.example.com>\r\n\r\nbody\r\n"
    with ImapClient(dovecot.settings(security=security)) as imap:
        folders = {f.name: f.flags for f in imap.folders()}
        assert "\\Sent" in folders["Sent"]
        assert "\\Drafts" in folders["Drafts"]
        assert imap.special("sent") == "Sent"
        assert imap.special("drafts") == "Drafts"
        uid = imap.append("INBOX", data, flags=("\\Seen",))
        imap.select("INBOX")
        found = imap.search(["HEADER", "Message-ID", "<h1@firma.example.com>"])
        assert uid in found
        fetched = imap.fetch([uid], ["RFC822", "FLAGS"])[uid]
        assert fetched[b"RFC822"] == data
        assert b"\\Seen" in fetched[b"FLAGS"]


def test_wrong_password_and_untrusted_certificate(dovecot: Dovecot) -> None:
    with pytest.raises(AuthError, match=dovecot.user):
        ImapClient(dovecot.settings(password=Secret("zle"))).connect()
    with pytest.raises(SecurityError, match="not trusted"):
        ImapClient(dovecot.settings(ca_bundle=None)).connect()


def imap_section(dovecot: Dovecot) -> str:
    return f"""
[destination.imap]
host = "localhost"
port = {dovecot.tls_port}
security = "tls"
username = "{dovecot.user}"
ca_bundle = "{dovecot.ca_bundle}"
"""


def test_copy_to_me_by_imap_append_to_sent_exactly_once(tmp_path: Path, dovecot: Dovecot) -> None:
    before = len(dovecot.messages("Sent"))
    with FaultServer(tmp=tmp_path) as server:
        rest = f"""
[batch]
copy_to_me = "imap"

[destination]
kind = "smtp"

[destination.smtp]
host = "127.0.0.1"
port = {server.port}
security = "none"
{imap_section(dovecot)}"""
        job = load_job(write_job(tmp_path, people(3), rest=rest))
        passwords = Passwords(imap=Secret(dovecot.password))
        request = SendRequest(outbox=tmp_path / "o.db")
        outcome = asyncio.run(SendRun(job, request, passwords=passwords, confirm=bool).run())
        assert outcome.report is not None
        assert outcome.report.outcome == "sent"
        assert outcome.copies == 3
        assert not outcome.copy_error
        again = asyncio.run(SendRun(job, request, passwords=passwords, confirm=bool).run())
        assert again.copies == 0
    sent = dovecot.messages("Sent")[before:]
    assert ids(sent) == sorted(s.message_id for s in server.stored)
    with Outbox(tmp_path / "o.db") as box:
        assert {c for (c,) in box.db.execute("SELECT copy FROM messages")} == {"done"}


def test_drafts_mode_appends_each_message_once_flagged_draft(tmp_path: Path, dovecot) -> None:
    before = len(dovecot.messages("Drafts"))
    rest = '\n[destination]\nkind = "drafts"\n' + imap_section(dovecot)
    job = load_job(write_job(tmp_path, people(2), rest=rest))
    passwords = Passwords(imap=Secret(dovecot.password))
    request = SendRequest(outbox=tmp_path / "o.db")
    refused = asyncio.run(
        SendRun(job, request, passwords=passwords, confirm=lambda _i: False).run()
    )
    assert refused.report is None
    assert not refused.confirmed
    assert len(dovecot.messages("Drafts")) == before
    for _run in range(2):
        outcome = asyncio.run(SendRun(job, request, passwords=passwords, confirm=bool).run())
        assert outcome.report is not None
        assert outcome.report.outcome == "sent"
    drafts = dovecot.messages("Drafts")[before:]
    assert len(drafts) == 2
    with ImapClient(dovecot.settings()) as imap:
        imap.select("Drafts")
        flags = imap.fetch(imap.search("ALL"), ["FLAGS"])
    assert all(b"\\Draft" in f[b"FLAGS"] for f in flags.values())
