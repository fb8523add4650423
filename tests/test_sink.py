"""The embedded local sink: a real SMTP server capturing to a Maildir, listed and read back."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from smtp_server import test_ca

from mailkit.config import Secret, Security, SmtpSettings
from mailkit.errors import AuthError, ConfigError, TransportError
from mailkit.message import OutgoingMessage
from mailkit.sink import Sink, list_messages, read_message
from mailkit.transports.base import SendStatus
from mailkit.transports.smtp import SmtpTransport


def message(n: int, *rcpts: str) -> OutgoingMessage:
    mid = f"<m{n}@firma.example.com>"
    data = f"From: a@firma.example.com\r\nSubject: Nr {n}\r\nMessage-ID: {mid}\r\n\r\nx\r\n"
    return OutgoingMessage(f"K{n}", mid, "a@firma.example.com", rcpts, data.encode())


async def deliver(sink: Sink, settings: SmtpSettings, *messages: OutgoingMessage) -> list[str]:
    async with sink:
        transport = SmtpTransport(settings.replace(port=sink.port))
        async with transport:
            return [(await transport.send(m)).status.value for m in messages]


def test_captures_lists_and_reads_back(tmp_path: Path) -> None:
    folder = tmp_path / "sink"
    settings = SmtpSettings(host="127.0.0.1", port=1, security=Security.NONE)
    msgs = [message(1, "x@example.org", "bcc@example.org"), message(2, "y@example.org")]
    assert asyncio.run(deliver(Sink(folder), settings, *msgs)) == ["sent", "sent"]
    listed = list_messages(folder)
    assert [c.subject for c in listed] == ["Nr 1", "Nr 2"]
    assert listed[0].recipients == ("x@example.org", "bcc@example.org")
    assert listed[0].mail_from == "a@firma.example.com"
    raw = read_message(folder, listed[1].id)
    assert raw.endswith(msgs[1].data)
    assert b"Return-Path: <a@firma.example.com>" in raw
    with pytest.raises(ConfigError):
        read_message(folder, "nope")
    assert list_messages(tmp_path / "empty") == []


def test_starttls_and_auth(tmp_path: Path) -> None:
    ca = test_ca()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    users = {"tester": "Haslo-Sinka-1"}
    settings = SmtpSettings(
        host="localhost", port=1, username="tester", password=Secret("Haslo-Sinka-1"),
        ca_bundle=bundle,
    )  # fmt: skip
    sink = Sink(tmp_path / "s", tls=server_ctx, users=users)
    assert asyncio.run(deliver(sink, settings, message(1, "x@example.org"))) == ["sent"]
    wrong = settings.replace(password=Secret("zle"))
    with pytest.raises(AuthError, match="535"):
        asyncio.run(deliver(Sink(tmp_path / "s", tls=server_ctx, users=users), wrong))
    assert len(list_messages(tmp_path / "s")) == 1


def test_refuses_other_hosts_and_a_taken_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Sink(tmp_path, host="0.0.0.0")

    async def twice() -> None:
        async with Sink(tmp_path / "a") as first:
            with pytest.raises(TransportError, match="cannot listen"):
                await Sink(tmp_path / "b", port=first.port).start()

    asyncio.run(twice())


def test_smtputf8_address_is_accepted(tmp_path: Path) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=1, security=Security.NONE)
    utf8 = OutgoingMessage(
        "K", "<u@firma.example.com>", "a@firma.example.com", ("użytkownik@example.org",),
        "Message-ID: <u@firma.example.com>\r\nSubject: ż\r\n\r\nx\r\n".encode(), True,
    )  # fmt: skip
    assert asyncio.run(deliver(Sink(tmp_path / "u"), settings, utf8)) == [SendStatus.SENT.value]
