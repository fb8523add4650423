"""Replies to pipelined SMTP commands (RFC 2920), read on the connection's own transport.

aiosmtplib reads one reply per command and drops bytes that arrive before a read is pending, so
the replies to MAIL, RCPT... and DATA sent in one write would be lost. For one transaction a
``PipelinedReplies`` takes the transport over, keeps every reply in order, and gives the
transport back to aiosmtplib's protocol afterwards (which also hears of a lost connection).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import NamedTuple

__all__ = ["ConnectionClosed", "PipelinedReplies", "Reply", "command_line"]

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


class PipelinedReplies(asyncio.Protocol):
    """Collects replies while it owns the transport: ``async with PipelinedReplies(t, p)``."""

    def __init__(self, transport: asyncio.Transport, previous: asyncio.BaseProtocol) -> None:
        self.transport, self.previous = transport, previous
        self._buffer = bytearray()
        self._replies: deque[Reply] = deque()
        self._lines: list[tuple[int, bytes]] = []
        self._closed: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    async def __aenter__(self) -> PipelinedReplies:
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
        """The next reply, in the order the commands were sent."""
        while not self._replies:
            if self._closed is not None:
                raise self._closed
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, timeout)
            finally:
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
        self._wake()

    def eof_received(self) -> bool | None:
        self._close(ConnectionClosed("the server closed the connection"))
        return self.previous.eof_received() if isinstance(self.previous, asyncio.Protocol) else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._close(ConnectionClosed("the server closed the connection"))
        self.previous.connection_lost(exc)

    def pause_writing(self) -> None:
        self.previous.pause_writing()

    def resume_writing(self) -> None:
        self.previous.resume_writing()

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self) -> None:
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[: end + 1]).rstrip(b"\r\n")
            del self._buffer[: end + 1]
            if len(line) > MAX_LINE or len(line) < 3 or not line[:3].isdigit():
                raise ConnectionClosed(f"not an SMTP reply: {line[:60]!r}")
            self._lines.append((int(line[:3]), line[4:].strip()))
            if line[3:4] != b"-":  # the last line of this reply
                code = self._lines[-1][0]
                text = b"\n".join(part for _code, part in self._lines)
                self._replies.append(Reply(code, text.decode("utf-8", "surrogateescape")))
                self._lines = []
        if len(self._buffer) > MAX_LINE:
            raise ConnectionClosed("an SMTP reply line is too long")

    def _close(self, err: BaseException) -> None:
        if self._closed is None:
            self._closed = err
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
