"""One contract for every transport (django's shared backend tests are the model)."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from smtp_server import FaultServer

from mailkit.addresses import parse_address, parse_address_list
from mailkit.config import Secret, Security, SmtpSettings
from mailkit.errors import TransportError
from mailkit.message import Draft, OutgoingMessage, freeze
from mailkit.sink import Sink, list_messages, read_message
from mailkit.transports import (
    FileTransport,
    MemoryTransport,
    SendStatus,
    Transport,
    draft_filename,
)
from mailkit.transports.base import SendResult
from mailkit.transports.smtp import SmtpTransport
from mailkit.transports.smtprules import data_payload
from mailkit.transports.smtptransaction import ConnectionClosed, Replies, Reply, command_line


def outgoing(key: str = "FV/2026/10/0012") -> OutgoingMessage:
    draft = Draft(
        key=key,
        sender=parse_address("a@firma.example.com"),
        to=(parse_address("b@example.com"),),
        subject="Zażółć",
        text="gęślą jaźń\n",
        bcc=parse_address_list("c@example.org"),
    )
    return freeze(draft)


def stored(transport: Transport) -> list[bytes]:
    if transport in CAPTURED:  # a real server behind the transport
        return CAPTURED[transport]()
    if isinstance(transport, MemoryTransport):
        return [m.data for m in transport.sent]
    assert isinstance(transport, FileTransport)
    return [p.read_bytes() for p in transport.written]


TRANSPORTS: dict[str, Callable[[Path], Transport]] = {
    "memory": lambda tmp: MemoryTransport(),
    "files": lambda tmp: FileTransport(tmp / "out"),
}


# Keyed by the transport object itself (weakly): an id() can be reused by the next test's object.
CAPTURED: weakref.WeakKeyDictionary[Transport, Callable[[], list[bytes]]] = (
    weakref.WeakKeyDictionary()
)


@pytest.fixture(params=[*sorted(TRANSPORTS), "smtp", "sink"])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Transport]:
    if request.param in TRANSPORTS:
        yield TRANSPORTS[request.param](tmp_path)
    elif request.param == "smtp":  # SMTP to the fault server (tests/smtp_server.py)
        with FaultServer(tls="starttls", users={"u": "p"}, tmp=tmp_path) as server:
            made = SmtpTransport(
                SmtpSettings(
                    host="localhost",
                    port=server.port,
                    username="u",
                    password=Secret("p"),
                    ca_bundle=server.ca_bundle,
                )
            )
            CAPTURED[made] = lambda: [s.data for s in server.stored]
            yield made
    else:  # SMTP to the embedded sink, read back from its Maildir
        yield from _sink_transport(tmp_path / "sink")


def _sink_transport(folder: Path) -> Iterator[Transport]:
    loop = asyncio.new_event_loop()
    sink = Sink(folder)
    loop.run_until_complete(sink.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    made = SmtpTransport(SmtpSettings(host="127.0.0.1", port=sink.port, security=Security.NONE))
    CAPTURED[made] = lambda: [
        read_message(folder, c.id, envelope=False) for c in list_messages(folder)
    ]
    try:
        yield made
    finally:
        asyncio.run_coroutine_threadsafe(sink.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_send_reports_every_recipient_accepted(transport: Transport) -> None:
    message = outgoing()

    async def go():  # type: ignore[no-untyped-def]
        async with transport:
            return await transport.send(message)

    result = run(go())
    assert result.status is SendStatus.SENT
    assert result.message_id == message.message_id
    assert [r.address for r in result.recipients] == ["b@example.com", "c@example.org"]
    assert all(r.accepted for r in result.recipients)


def test_what_is_stored_parses_and_has_no_bcc(transport: Transport) -> None:
    async def go() -> None:
        async with transport:
            await transport.send(outgoing("A1"))
            await transport.send(outgoing("A2"))

    run(go())
    data = stored(transport)
    assert len(data) == 2
    for raw in data:
        msg = message_from_bytes(raw, policy=email_policy.default)
        assert msg["Subject"] == "Zażółć"
        assert msg["Bcc"] is None
        assert b"c@example.org" not in raw


def test_open_and_close_are_idempotent(transport: Transport) -> None:
    async def go() -> None:
        await transport.open()
        await transport.open()
        await transport.close()
        await transport.close()

    run(go())


def test_memory_transport_refuses_what_a_server_would() -> None:
    good = outgoing()
    bad = [
        OutgoingMessage("k", good.message_id, "", good.recipients, good.data),
        OutgoingMessage("k", good.message_id, good.mail_from, (), good.data),
        OutgoingMessage(
            "k", good.message_id, good.mail_from, good.recipients, b"Bcc: x\r\n" + good.data
        ),
        OutgoingMessage("k", "<other@x>", good.mail_from, good.recipients, good.data),
        OutgoingMessage(
            "k", good.message_id, good.mail_from, good.recipients, good.data.replace(b"\r\n", b"\n")
        ),
    ]

    async def go(message: OutgoingMessage) -> None:
        async with MemoryTransport() as t:
            await t.send(message)

    for message in bad:
        with pytest.raises(TransportError):
            run(go(message))


def test_file_drafts_are_marked_unsent_and_named_after_the_row(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "drafts")

    async def go() -> None:
        async with transport:
            await transport.send(outgoing("FV/2026/10/0012"))

    run(go())
    (path,) = transport.written
    assert path.name == "FV_2026_10_0012.eml"
    assert path.read_bytes().startswith(b"X-Unsent: 1\r\n")
    assert not list((tmp_path / "drafts").glob("*.part"))
    assert draft_filename("../../etc/passwd") == "etc_passwd.eml"


def test_file_transport_reports_an_unwritable_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")

    async def go() -> None:
        async with FileTransport(tmp_path / "taken" / "sub"):
            pass

    with pytest.raises(TransportError, match="cannot create the folder"):
        run(go())


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (b"Subject: a\r\n\r\nbody\r\n", b"Subject: a\r\n\r\nbody\r\n.\r\n"),
        (b".start\r\n.\r\nx\r\n..y", b"..start\r\n..\r\nx\r\n...y\r\n.\r\n"),
        (b"a\nb\rc\r\n.d\n", b"a\r\nb\r\nc\r\n..d\r\n.\r\n"),
        (b"", b"\r\n.\r\n"),
    ],
)
def test_data_payload_ends_lines_in_crlf_and_doubles_leading_dots(
    message: bytes, wire: bytes
) -> None:
    assert data_payload(message) == wire
    if message.count(b"\r") == message.count(b"\n") == message.count(b"\r\n"):
        assert data_payload(message, crlf=True) == wire  # the same without counting line ends


def test_frozen_messages_reach_the_server_byte_for_byte(tmp_path: Path) -> None:
    """Whether sending doubles dots or skips its scans, the server stores what was frozen."""
    plain = outgoing("A")
    dotted = freeze(Draft(
        key="B", sender=parse_address("a@firma.example.com"), to=(parse_address("b@example.com"),),
        subject="x", text=".kropka\n..dwie\n",
    ))  # fmt: skip
    assert plain.transparent and dotted.crlf and not dotted.transparent
    for made in _sink_transport(tmp_path / "sink"):

        async def go(transport: Transport = made) -> None:
            async with transport:
                for message in (plain, dotted):
                    assert (await transport.send(message)).status is SendStatus.SENT

        asyncio.run(go())
        assert stored(made) == [plain.data, dotted.data]


@pytest.mark.parametrize("offered", [True, False], ids=["PIPELINING", "no PIPELINING"])
def test_mail_rcpt_and_data_go_in_one_write_when_the_server_pipelines(
    tmp_path: Path, offered: bool
) -> None:
    with FaultServer(tmp=tmp_path) as server:
        server.handler.pipelining = offered
        made = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=server.port, security=Security.NONE)
        )

        async def three() -> list[SendResult]:
            async with made:
                return [await made.send(outgoing(f"K{i}")) for i in range(3)]

        results = run(three())
        seen = list(server.handler.pipelined)
        copies = [sorted(s.rcpt_tos) for s in server.stored]
    assert [r.status for r in results] == [SendStatus.SENT] * 3
    assert made.capabilities.pipelining is offered
    assert seen == [offered] * 3
    assert copies == [["b@example.com", "c@example.org"]] * 3


class _Wire:
    """The transport side of a connection, for feeding replies in awkward pieces."""

    def __init__(self) -> None:
        self.protocol: asyncio.BaseProtocol | None = None
        self.closed = False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def write(self, data: bytes) -> None:
        pass


def test_pipelined_replies_come_whole_and_in_order_however_the_bytes_arrive() -> None:
    async def scenario() -> list[Reply]:
        wire = _Wire()
        async with Replies(wire, asyncio.Protocol()) as replies:  # type: ignore[arg-type]
            for piece in (b"250 2.1.0 OK\r\n250-first", b" line\r\n250 sec", b"ond\r\n354 go\r\n"):
                replies.data_received(piece)
            got = [await replies.read(1.0) for _ in range(3)]
            with pytest.raises(TimeoutError):
                await replies.read(0.05)  # nothing more was said
            asyncio.get_running_loop().call_later(0.02, replies.data_received, b"250-a bit")
            with pytest.raises(TimeoutError):
                await replies.read(0.1)  # half a reply is no reply
            replies.data_received(b"\r\n250 more\r\n")
            assert await replies.read(1.0) == Reply(250, "a bit\nmore")
            replies.data_received(b"garbage\r\n")
            with pytest.raises(ConnectionClosed):
                await replies.read(1.0)
        assert wire.closed
        return got

    assert run(scenario()) == [
        Reply(250, "2.1.0 OK"),
        Reply(250, "first line\nsecond"),
        Reply(354, "go"),
    ]


def test_a_command_with_a_line_break_is_refused() -> None:
    assert command_line(b"RCPT TO:<a@example.com>") == b"RCPT TO:<a@example.com>\r\n"
    with pytest.raises(ValueError, match="line break"):
        command_line(b"RCPT TO:<a@example.com>\r\nDATA")
