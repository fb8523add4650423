"""A send from Python: test to myself, redirect to a test address, copy by Bcc, `mailkit sink`."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.config import Security, SmtpSettings
from mailkit.job import load_job
from mailkit.message import OutgoingMessage
from mailkit.outbox import Outbox, RowState
from mailkit.sending import SendRequest, SendRun, send_test
from mailkit.sink import list_messages
from mailkit.transports.smtp import SmtpTransport

SMTP = """
[destination]
kind = "smtp"
[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
{batch}
"""


def job_for(tmp_path: Path, server: FaultServer, n: int = 2, batch: str = ""):  # type: ignore[no-untyped-def]
    rows = people(n)
    rows[1][3] = "dw@example.org"
    return load_job(write_job(tmp_path, rows, rest=SMTP.format(port=server.port, batch=batch)))


def test_test_to_myself_goes_to_the_sender_only_and_is_not_journaled(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = job_for(tmp_path, server)
        result = asyncio.run(send_test(job, key="P002"))
    assert result.status.value == "sent"
    [stored] = server.stored
    assert stored.rcpt_tos == ("kadry@firma.example.com",)
    msg = message_from_bytes(stored.data, policy=email_policy.default)
    assert msg["Subject"] == "[TEST] Pasek dla Osoba2"
    assert msg["X-Mailkit-Original-To"] == "osoba2@example.org"
    with Outbox() as box:
        assert box.counts(job.name) == {}


def test_redirect_sends_every_row_to_the_test_address_in_a_batch_of_its_own(tmp_path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = job_for(tmp_path, server, 3)
        request = SendRequest(redirect="test@firma.example.com", outbox=tmp_path / "o.db")
        outcome = asyncio.run(SendRun(job, request, confirm=bool).run())
    assert outcome.report is not None
    assert outcome.report.counts == {RowState.SENT: 3}
    assert {s.rcpt_tos for s in server.stored} == {("test@firma.example.com",)}
    first = message_from_bytes(server.stored[0].data, policy=email_policy.default)
    assert first["X-Mailkit-Original-To"] == "osoba1@example.org"
    assert first["X-Mailkit-Original-Cc"] == "dw@example.org"
    assert first["Cc"] is None
    with Outbox(tmp_path / "o.db") as box:
        assert box.counts(job.name) == {}  # the real batch is untouched
        assert box.counts(outcome.enqueued.batch) == {RowState.SENT: 3}


def test_copy_to_me_by_bcc_adds_the_sender_to_the_envelope_only(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = job_for(tmp_path, server, 2, batch='[batch]\ncopy_to_me = "bcc"\n')
        request = SendRequest(outbox=tmp_path / "o.db")
        seen = []
        outcome = asyncio.run(SendRun(job, request, confirm=bool, progress=seen.append).run())
    assert outcome.report is not None
    assert outcome.report.outcome == "sent"
    assert all("kadry@firma.example.com" in s.rcpt_tos for s in server.stored)
    for stored in server.stored:
        msg = message_from_bytes(stored.data, policy=email_policy.default)
        visible = f"{msg['To']} {msg['Cc'] or ''}"
        assert "kadry@firma.example.com" not in visible
    assert all(b"\nBcc:" not in s.data for s in server.stored)
    last = seen[-1]
    assert last.counts == {RowState.SENT: 2}
    assert last.done == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_sink_command_captures_until_stopped(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "sink"
    cmd = [sys.executable, "-m", "mailkit", "sink", "--folder", str(folder), "--port", str(port)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        data = b"Message-ID: <s1@firma.example.com>\r\nSubject: Sink\r\n\r\nx\r\n"
        message = OutgoingMessage(
            "K", "<s1@firma.example.com>", "a@firma.example.com", ("b@example.org",), data
        )
        settings = SmtpSettings(host="127.0.0.1", port=port, security=Security.NONE)

        async def deliver() -> str:
            async with SmtpTransport(settings) as transport:
                return (await transport.send(message)).status.value

        assert asyncio.run(deliver()) == "sent"
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert [c.subject for c in list_messages(folder)] == ["Sink"]
