"""The one transport interface: open, send one frozen message, close; an async context manager."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

from ..message import OutgoingMessage

__all__ = ["Capabilities", "RecipientResult", "SendResult", "SendStatus", "Transport"]


class SendStatus(StrEnum):
    """How one message ended at the destination."""

    SENT = "sent"  # every recipient accepted
    PARTIAL = "partial"  # some recipients refused for good, the others accepted
    FAILED = "failed"  # refused for good (5xx); not retried
    DEFERRED = "deferred"  # refused for now (4xx, or dropped before DATA); safe to retry
    UNKNOWN = "unknown"  # the connection broke after DATA started; ask the operator


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """One envelope recipient: accepted or not, with the server's reply."""

    address: str
    accepted: bool
    code: int | None = None
    reply: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of sending one message; partial failure is data, not an exception."""

    status: SendStatus
    message_id: str
    recipients: tuple[RecipientResult, ...] = ()
    code: int | None = None
    reply: str = ""
    phase: str = ""
    pause: bool = False  # the server asks the whole batch to slow down (421, 4.7.x, 450 4.2.1)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the destination accepts; ``None`` size means no known limit."""

    size: int | None = None
    dsn: bool = False
    smtputf8: bool = True
    pipelining: bool = False


class Transport(ABC):
    """Send frozen messages somewhere; use as ``async with transport: await transport.send(m)``.

    ``send`` returns a SendResult for anything about one message and raises a TransportError
    only when the destination as a whole fails (nothing more can be sent through it).
    """

    name = "transport"

    async def open(self) -> None:
        """Acquire what sending needs (a connection, a folder); idempotent."""

    async def close(self) -> None:
        """Release it; safe to call twice."""

    @property
    def capabilities(self) -> Capabilities:
        """What this destination accepts (known after ``open`` for servers)."""
        return Capabilities()

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver one message and say how it ended."""

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
