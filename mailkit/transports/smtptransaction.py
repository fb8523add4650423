"""One SMTP mail transaction on the connection's own transport: MAIL, RCPT, DATA, the message.

aiosmtplib opens the session (TLS, EHLO, login) and closes it; the transaction is driven here so
that every reply is read by mailkit. aiosmtplib reads one reply per command and drops bytes that
arrive before a read is pending, so replies to commands pipelined in one write (RFC 2920) would
be lost. While a transaction runs, ``Replies`` owns the transport and keeps every reply in
order; afterwards the transport goes back to aiosmtplib's protocol (which also hears of a lost
connection).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from ..message import OutgoingMessage
from .base import RecipientResult
from .smtprules import data_payload, is_throttle

__all__ = [
    "ConnectionClosed",
    "Replies",
    "Reply",
    "Transaction",
    "command_line",
    "envelope_line",
]

MAX_LINE = 8192  # a reply line longer than this is a broken server (RFC 5321: 512)


class Reply(NamedTuple):
    """One SMTP reply: its code and its text (lines joined by newlines)."""

    code: int
    text: str


class ConnectionClosed(ConnectionError):
    """The server closed the connection, or sent something that is not an SMTP reply."""


def command_line(verb: bytes, *args: bytes) -> bytes:
    """``verb args CRLF``; CR or LF inside would smuggle a second command, so they are refused."""
    line = b" ".join((verb, *args))
    if b"\r" in line or b"\n" in line:
        raise ValueError("an SMTP command argument contains a line break")
    return line + b"\r\n"


def envelope_line(verb: bytes, address: str, charset: str, options: list[str]) -> bytes:
    """``MAIL FROM:<address> options`` or ``RCPT TO:<address> options``, as sent."""
    return command_line(
        verb + b"<" + address.encode(charset) + b">", *(o.encode() for o in options)
    )


class Replies(asyncio.Protocol):
    """Collects replies while it owns the transport: ``async with Replies(transport, protocol)``."""

    def __init__(self, transport: asyncio.Transport, previous: asyncio.BaseProtocol) -> None:
        self.transport, self.previous = transport, previous
        self._buffer = bytearray()
        self._replies: deque[Reply] = deque()
        self._lines: list[tuple[int, bytes]] = []
        self._closed: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def __aenter__(self) -> Replies:
        self.transport.set_protocol(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.transport.set_protocol(self.previous)

    def write(self, data: bytes) -> None:
        """Send ``data`` now (commands, or the message after 354)."""
        if self._closed is not None or self.transport.is_closing():
            raise ConnectionClosed("the server closed the connection")
        self.transport.write(data)

    async def read(self, timeout: float) -> Reply:
        """The next reply, in the order the commands were sent; TimeoutError after ``timeout``
        seconds without one (a timer on the loop: cheaper than ``wait_for``'s task)."""
        while not self._replies:
            if self._closed is not None:
                raise self._closed
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(timeout, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._replies.popleft()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            self._parse()
        except ConnectionClosed as err:
            self._close(err)
            self.transport.close()
        if self._replies:  # a whole reply: a server trickling bytes does not reset the timeout
            self._wake()

    def eof_received(self) -> bool | None:
        self._close(ConnectionClosed("the server closed the connection"))
        return None  # the transport closes, and connection_lost tells aiosmtplib's protocol

    def connection_lost(self, exc: Exception | None) -> None:
        self._close(ConnectionClosed("the server closed the connection"))
        self.previous.connection_lost(exc)

    def pause_writing(self) -> None:
        self.previous.pause_writing()

    def resume_writing(self) -> None:
        self.previous.resume_writing()

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self) -> None:
        """Every whole line in the buffer (one split, not one search and copy per line)."""
        buffer = self._buffer
        end = buffer.rfind(b"\n") + 1
        if end:
            whole = bytes(buffer[:end])
            del buffer[:end]
            for raw in whole.split(b"\n")[:-1]:
                self._line(raw.rstrip(b"\r"))
        if len(buffer) > MAX_LINE:
            raise ConnectionClosed("an SMTP reply line is too long")

    def _line(self, line: bytes) -> None:
        if len(line) > MAX_LINE or len(line) < 3 or not line[:3].isdigit():
            raise ConnectionClosed(f"not an SMTP reply: {line[:60]!r}")
        self._lines.append((int(line[:3]), line[4:].strip()))
        if line[3:4] != b"-":  # the last line of this reply
            code = self._lines[-1][0]
            text = b"\n".join(part for _code, part in self._lines)
            self._replies.append(Reply(code, text.decode("utf-8", "surrogateescape")))
            self._lines = []

    def _close(self, err: BaseException) -> None:
        if self._closed is None:
            self._closed = err
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


_NO_REPLY = Reply(0, "")


@dataclass(slots=True)
class Transaction:
    """One transaction's replies and how far it got: ``phase`` is mail, rcpt, data, or sent once
    the message has been written. ``commands`` holds MAIL FROM, each RCPT TO, then DATA."""

    commands: list[bytes]
    pipelining: bool
    phase: str = "mail"
    mail: Reply = _NO_REPLY
    start: Reply = _NO_REPLY
    final: Reply | None = None
    rcpts: list[Reply] = field(default_factory=list)
    results: tuple[RecipientResult, ...] = ()

    def refusal(self) -> tuple[Reply, str] | None:
        """What the server refused before the connection went: a 421 is said, then closed."""
        if self.mail.code not in (0, 250):
            return self.mail, "mail"
        slow = [r for r in self.rcpts if is_throttle(r.code, r.text)]  # one 550 stays per rcpt
        return (slow[0], "rcpt") if slow and self.phase != "sent" else None

    async def run(self, protocol: Any, message: OutgoingMessage, timeout: float) -> None:
        """Send the commands on ``protocol``'s connection (aiosmtplib's), all in one write when
        the server pipelines, else each after the previous reply; the message follows a 354
        when a recipient was accepted."""
        transport = getattr(protocol, "transport", None)
        if transport is None or transport.is_closing():
            raise ConnectionClosed("the server closed the connection")
        # uvloop's transports are not registered as asyncio.Transport subclasses: no isinstance
        async with Replies(cast(asyncio.Transport, transport), protocol) as replies:
            await self._commands(replies, message.recipients, timeout)
            sendable = self.mail.code == 250 and any(r.accepted for r in self.results)
            if self.start.code == 354 and sendable:
                data = message.data  # frozen by mailkit: known to go as it is, or to need dots
                replies.write(
                    data + b".\r\n" if message.transparent
                    else data_payload(data, crlf=message.crlf)
                )  # fmt: skip
                self.phase = "sent"
                self.final = await replies.read(timeout)

    async def _commands(
        self, replies: Replies, recipients: tuple[str, ...], timeout: float
    ) -> None:
        """Every command's reply in order; one at a time, stop where going on is pointless."""
        mail, *rcpts, data = self.commands
        if self.pipelining:
            replies.write(b"".join(self.commands))
        self.mail = await self._ask(replies, mail, timeout)
        if self.mail.code != 250 and not self.pipelining:
            return
        self.phase = "rcpt"
        for line in rcpts:
            self.rcpts.append(await self._ask(replies, line, timeout))
        self.results = tuple(
            RecipientResult(address, r.code in (250, 251), r.code, r.text)
            for address, r in zip(recipients, self.rcpts, strict=True)
        )
        if not any(r.accepted for r in self.results) and not self.pipelining:
            return
        self.phase = "data"
        self.start = await self._ask(replies, data, timeout)

    async def _ask(self, replies: Replies, line: bytes, timeout: float) -> Reply:
        """The reply to ``line``, which is written first unless it was pipelined."""
        if not self.pipelining:
            replies.write(line)
        return await replies.read(timeout)
