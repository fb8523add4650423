"""What a message is made from (Draft, Attachment) and what a transport sends (OutgoingMessage)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .addresses import MailAddress
from .errors import DataError
from .i18n import _
from .text import single_line_problem

__all__ = [
    "Attachment",
    "Draft",
    "OutgoingMessage",
    "check_headers",
    "crlf_only",
    "new_message_id",
    "transparent",
]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to one message; ``protection`` says how it is locked ('' for none)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"
    protection: str = ""


@dataclass(frozen=True)
class Draft:
    """Everything one message needs, already merged and checked; immutable."""

    key: str
    sender: MailAddress
    to: tuple[MailAddress, ...]
    subject: str
    text: str
    html: str | None = None
    cc: tuple[MailAddress, ...] = ()
    bcc: tuple[MailAddress, ...] = ()
    reply_to: tuple[MailAddress, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    envelope_from: MailAddress | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def recipients(self) -> tuple[str, ...]:
        """Envelope recipients: To, CC and BCC, each once, in order."""
        seen: dict[str, None] = {}
        for addr in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(addr.envelope(), None)
        return tuple(seen)

    @property
    def smtputf8(self) -> bool:
        """True when some address has a non-ASCII local part (the server must offer SMTPUTF8)."""
        return any(a.smtputf8 for a in (self.sender, *self.to, *self.cc, *self.bcc, *self.reply_to))


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a transport sends: envelope and final bytes (never with a Bcc: header)."""

    key: str
    message_id: str
    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    smtputf8: bool = False
    # What ``freeze`` knows of the bytes, kept by the outbox, so that sending need not scan them:
    crlf: bool = False  # no bare CR or LF: every line end is CRLF
    transparent: bool = False  # and the last line ends, and no line begins with a dot: DATA
    # takes the bytes as they are


def crlf_only(data: bytes) -> bool:
    """True when every line end in ``data`` is CRLF (no bare CR or LF); three C-speed counts."""
    lines = data.count(b"\n")
    return data.count(b"\r") == lines and data.count(b"\r\n") == lines


def transparent(data: bytes) -> bool:
    """True when ``data`` can follow SMTP DATA unchanged: CRLF line ends only, the last line
    ended, and no line beginning with a dot (RFC 5321 section 4.5.2)."""
    return (
        data.endswith(b"\r\n")
        and not data.startswith(b".")
        and crlf_only(data)
        and b"\r\n." not in data
    )


def new_message_id(domain: str) -> str:
    """A Message-ID on the sender's domain; ``make_msgid`` would leak this host's name."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def check_headers(draft: Draft) -> None:
    for name, value in (("Subject", draft.subject), *draft.headers):
        problem = single_line_problem(value)
        if problem:
            raise DataError(
                _("Row {row}: the {header} header is refused: {problem}").format(
                    row=draft.key, header=name, problem=problem
                ),
                row=draft.key,
                column=name,
            )
    if not draft.to:
        raise DataError(
            _("Row {row}: the message has no recipient").format(row=draft.key), row=draft.key
        )
