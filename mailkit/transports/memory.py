"""A transport keeping messages in a list, checked as a server would (tests, dry runs)."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as _policies

from ..errors import TransportError
from ..i18n import _
from ..message import OutgoingMessage
from .base import RecipientResult, SendResult, SendStatus, Transport

__all__ = ["MemoryTransport"]

_MAX_LINE = 998  # RFC 5322 section 2.1.1, without CRLF


def check_wire_format(message: OutgoingMessage) -> None:
    """Refuse what a strict server would: no envelope, bare LF, long lines, Bcc, wrong ID."""
    if not message.mail_from or not message.recipients:
        raise TransportError(
            _("the message has no envelope sender or recipients"), phase="envelope"
        )
    data = message.data
    if b"\n" in data.replace(b"\r\n", b""):
        raise TransportError(_("the message has bare line feeds"), phase="data")
    if any(len(line) > _MAX_LINE for line in data.split(b"\r\n")):
        raise TransportError(_("the message has a line over 998 characters"), phase="data")
    parsed = message_from_bytes(data, policy=_policies.default)
    if parsed["Bcc"] is not None:
        raise TransportError(_("the message carries a Bcc: header"), phase="data")
    if str(parsed["Message-ID"]) != message.message_id:
        raise TransportError(_("the Message-ID header differs from the journal's"), phase="data")


class MemoryTransport(Transport):
    """Stores every message it accepts in ``sent`` (in order)."""

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.opened = False

    async def open(self) -> None:
        self.opened = True

    async def close(self) -> None:
        self.opened = False

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not self.opened:
            raise TransportError(_("the transport is not open"), phase="connect")
        check_wire_format(message)
        self.sent.append(message)
        accepted = tuple(RecipientResult(r, True, 250, "OK") for r in message.recipients)
        return SendResult(SendStatus.SENT, message.message_id, accepted, 250, "OK", "data")
