"""Draft -> EmailMessage -> frozen bytes, with the modern ``email`` API under an explicit policy."""

from __future__ import annotations

import binascii
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from email import policy as _policies
from email.charset import Charset
from email.contentmanager import ContentManager, raw_data_manager
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import (
    Address,
    AddressHeader,
    BaseHeader,
    HeaderRegistry,
    MessageIDHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from io import BytesIO
from typing import Any

from .addresses import MailAddress
from .errors import DataError
from .i18n import _
from .text import single_line_problem

__all__ = [
    "Attachment",
    "Draft",
    "OutgoingMessage",
    "build_message",
    "crlf_only",
    "freeze",
    "new_message_id",
    "transparent",
]


def _fold_addresses(name: str, groups: Any, policy: Any) -> str:
    """``To: a,<CRLF> b``: one address per line, non-ASCII names as RFC 2047 encoded words.

    CPython's modern folder spends ~3 ms on one such header (quadratic in ``_fold_as_ew``);
    ``Address.__str__`` quotes specials and ``email.header.Header`` encodes words in microseconds.
    """
    linesep = policy.linesep
    parts = []
    for group in groups:
        for addr in group.addresses:
            display = addr.display_name
            if display and not display.isascii() and not policy.utf8:
                parts.append(f"{_encoded_words(display, linesep)} <{addr.addr_spec}>")
            else:
                parts.append(str(addr))
    return f"{name}: " + f",{linesep} ".join(parts) + str(linesep)


_PLAIN_MSGID = re.compile(r"<[!-;=?-~]{1,200}@[!-;=?-~]{1,200}>")  # printable, no "<", ">", space


def _parse_message_id(cls: type[MessageIDHeader], value: Any, kwds: dict[str, Any]) -> None:
    """A Message-ID such as mailkit makes (``<hex@domain>``) is one ASCII token: no parse needed."""
    if isinstance(value, str) and _PLAIN_MSGID.fullmatch(value):
        kwds["parse_tree"] = None
        kwds["decoded"] = value
        return
    MessageIDHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


def _parse_unstructured(cls: type[UnstructuredHeader], value: Any, kwds: dict[str, Any]) -> None:
    """A one-line text such as a Subject needs no parse tree: ``_fold_text`` encodes it.

    Text that looks like an encoded word keeps the stock parse, which decodes it."""
    if isinstance(value, str) and value.isprintable() and "=?" not in value:
        kwds["parse_tree"] = None
        kwds["decoded"] = value
        return
    UnstructuredHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


def _fold_text(name: str, text: str, policy: Any) -> str:
    """``Subject: text``, folded at spaces when ASCII, else as RFC 2047 encoded words (UTF-8).

    Much faster than the modern folder, which parses the text again."""
    linesep = policy.linesep
    if (text.isascii() or policy.utf8) and len(name) + 2 + len(text) <= policy.max_line_length:
        return f"{name}: {text}{linesep}"
    if text.isascii():
        folded = Header(text, "us-ascii", maxlinelen=policy.max_line_length, header_name=name)
        return f"{name}: {folded.encode(linesep=linesep)}{linesep}"
    return f"{name}: {_encoded_words(text, linesep)}{linesep}"


def _parse_addresses(cls: type[AddressHeader], value: Any, kwds: dict[str, Any]) -> None:
    """Address objects need no re-parse of their own text: they are folded by _fold_addresses."""
    if not isinstance(value, str):
        kwds["parse_tree"] = None
    AddressHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


_UTF8 = Charset("utf-8")


_WORD_BYTES = 42  # base64 of 42 bytes + "=?utf-8?b??=" = 68 characters, so "Subject: " fits too


def _encoded_words(text: str, linesep: str) -> str:
    """RFC 2047 encoded words (UTF-8, base64), one per line, never splitting a character.

    ``email.header.Header`` measures every character of every candidate split (~0.7 ms for a
    long Polish subject); whole characters of known UTF-8 length need one pass."""
    if len(text.encode("utf-8")) <= _WORD_BYTES:
        return _UTF8.header_encode(text)
    words, start, size = [], 0, 0
    for i, char in enumerate(text):
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append(_UTF8.header_encode(text[start:i]))
            start, size = i, 0
        size += width
    words.append(_UTF8.header_encode(text[start:]))
    return f"{linesep} ".join(words)


class _Header(BaseHeader):
    """A header that folds itself once: the same From/Date/Content-Type repeat in a batch."""

    def fold(self, *, policy: Any) -> str:
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        cache: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_folded", {})
        if key not in cache:
            groups = getattr(self, "groups", None)
            if groups is not None and all(g.display_name is None for g in groups):  # no groups
                cache[key] = _fold_addresses(self.name, groups, policy)
            elif getattr(self, "_parse_tree", True) is None:  # see _parse_unstructured
                if isinstance(self, UnstructuredHeader):
                    cache[key] = _fold_text(self.name, str(self), policy)
                else:  # a plain token (_parse_message_id)
                    cache[key] = f"{self.name}: {self}{policy.linesep}"
            else:
                cache[key] = super().fold(policy=policy)
        return cache[key]


class _Registry(HeaderRegistry):
    """CPython builds a new header class per header and parses equal values again; cache both.

    Header objects are immutable, so sharing one between messages is safe.
    """

    _LIMIT = 8192

    def __init__(self) -> None:
        super().__init__(base_class=_Header)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._made: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            made: type[Any] = super().__getitem__(name)
            if issubclass(made, AddressHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_addresses)})
            elif issubclass(made, MessageIDHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_message_id)})
            elif issubclass(made, UnstructuredHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_unstructured)})
            cls = self._classes[key] = made
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            text = value
        elif isinstance(value, Address):
            text = str(value)
        elif isinstance(value, list | tuple) and all(isinstance(v, Address) for v in value):
            text = ", ".join(str(v) for v in value)
        else:
            return super().__call__(name, value)
        key = (name, text)
        made = self._made.get(key)
        if made is None:
            if len(self._made) >= self._LIMIT:
                self._made.clear()
            made = self._made[key] = super().__call__(name, value)  # the original value
        return made


# RFC 5322 via SMTP: CRLF line ends, 78-column folding; 7bit bodies so no server needs 8BITMIME.
POLICY = _policies.SMTP.clone(header_factory=_Registry(), cte_type="7bit")
POLICY_UTF8 = _policies.SMTPUTF8.clone(header_factory=_Registry(), cte_type="7bit")


# Every part is quoted-printable or base64, and neither can contain "=_" (QP writes "=" as "=3D"),
# so fixed boundaries are safe (RFC 2045 section 6.7, RFC 2046 section 5.1.1); being the same for
# every message, the Content-Type headers are parsed once per batch, not once per message.
_ALT_BOUNDARY = "=_mailkit_alternative"
_MIXED_BOUNDARY = "=_mailkit_mixed"


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


class _QuotedLines:
    """Quoted-printable by binascii's C encoder, each distinct line encoded once per batch.

    QP works line by line: soft breaks start again after every hard one, so the encoding of a
    text is its lines' encodings joined, and a template's fixed lines (most of a reminder) need
    encoding only once. A CR makes binascii look across lines, so such a text is encoded whole.
    Bounded by the lines' total size, as ``_EncodedFiles`` is.
    """

    LIMIT = 8 << 20

    def __init__(self) -> None:
        self._lines: dict[bytes, bytes] = {}
        self._size = 0

    def __call__(self, data: bytes) -> bytes:
        if b"\r" in data:
            return binascii.b2a_qp(data, istext=True)
        known = self._lines.get  # a line's encoding is never empty
        return b"".join([known(line) or self._new(line) for line in data.splitlines(True)])

    def _new(self, line: bytes) -> bytes:
        found = binascii.b2a_qp(line, istext=True)
        if self._size + len(line) > self.LIMIT:
            self._lines.clear()
            self._size = 0
        self._lines[line] = found
        self._size += len(line)
        return found


_quoted_printable = _QuotedLines()


def _set_text(part: MIMEPart, body: str, subtype: str) -> None:
    """A UTF-8 text part, quoted-printable (see ``_QuotedLines``).

    ``set_content`` would do the same in pure Python and re-parse the Content-Type per part;
    these header values repeat in every message, so the policy's registry parses them once.
    """
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    encoded = _quoted_printable(body.replace("\r\n", "\n").encode("utf-8"))
    part.set_payload(encoded.decode("ascii"))


_B64_LINE = 76  # 57 bytes per line, as the email package writes it under a 78-column policy


class _EncodedFiles:
    """Base64 lines by file content: the same file attached to many rows is encoded once, and
    made wire bytes once per line end (``wire``). Bounded by the files' size plus the wire
    bytes'."""

    LIMIT = 32 << 20

    def __init__(self) -> None:
        self._lines: dict[bytes, str] = {}
        self._wire: dict[int, tuple[str, dict[str, bytes]]] = {}  # by id() of a str kept here
        self._size = 0

    def __call__(self, data: bytes) -> str:
        """``data`` in base64 lines of 76 characters; one C call instead of one per line."""
        found = self._lines.get(data)
        if found is None:
            flat = binascii.b2a_base64(data, newline=False)
            found = b"".join(
                flat[i : i + _B64_LINE] + b"\n" for i in range(0, len(flat), _B64_LINE)
            ).decode("ascii")
            if self._size + len(data) > self.LIMIT:
                self._lines.clear()
                self._wire.clear()
                self._size = 0
            self._lines[data] = found
            self._wire[id(found)] = (found, {})
            self._size += len(data)
        return found

    def wire(self, lines: str, linesep: str) -> bytes | None:
        """``lines`` with ``linesep`` line ends as bytes, if they are lines made here."""
        known = self._wire.get(id(lines))
        if known is None or known[0] is not lines:
            return None
        made = known[1].get(linesep)
        if made is None:
            made = known[1][linesep] = lines.replace("\n", linesep).encode("ascii")
            self._size += len(made)
        return made


_base64 = _EncodedFiles()


def _set_attachment(part: MIMEPart, data: bytes, maintype: str, subtype: str, **kw: Any) -> None:
    """The stock bytes handler for the headers, and the body as lines already encoded (it would
    encode line by line, and the generator copy them for every message)."""
    raw_data_manager.set_content(part, b"", maintype, subtype, cte="7bit", **kw)
    part.replace_header("Content-Transfer-Encoding", "base64")
    part.set_payload(_base64(data))


_ATTACHMENTS = ContentManager()
_ATTACHMENTS.add_set_handler(bytes, _set_attachment)


def _check_headers(draft: Draft) -> None:
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


def build_message(
    draft: Draft, *, message_id: str | None = None, date: dt.datetime | None = None
) -> EmailMessage:
    """The RFC 5322 message for ``draft``: multipart/alternative bodies, then attachments."""
    _check_headers(draft)
    msg = EmailMessage(policy=POLICY_UTF8 if draft.smtputf8 else POLICY)
    msg["From"] = draft.sender.header()
    msg["To"] = [a.header() for a in draft.to]
    if draft.cc:
        msg["Cc"] = [a.header() for a in draft.cc]
    if draft.reply_to:
        msg["Reply-To"] = [a.header() for a in draft.reply_to]
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(date or dt.datetime.now().astimezone())
    msg["Message-ID"] = message_id or new_message_id(draft.sender.ascii_domain)
    for name, value in draft.headers:
        msg[name] = value
    msg["MIME-Version"] = "1.0"
    if draft.html is None:
        _set_text(msg, draft.text, "plain")
    else:
        msg["Content-Type"] = f'multipart/alternative; boundary="{_ALT_BOUNDARY}"'
        for body, subtype in ((draft.text, "plain"), (draft.html, "html")):
            part = EmailMessage(policy=msg.policy)
            _set_text(part, body, subtype)
            msg.attach(part)
    for att in draft.attachments:
        maintype, _sep, subtype = att.mimetype.partition("/")
        msg.add_attachment(
            att.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=att.filename,
            content_manager=_ATTACHMENTS,
        )
    if draft.attachments:
        msg.set_boundary(_MIXED_BOUNDARY)
    return msg


_LINE_ENDS = re.compile(r"\r\n|\r|\n")


class _Generator(BytesGenerator):
    """``BytesGenerator`` writing each body in one piece, with the same bytes.

    The stock writer splits a body into lines and writes each line and its separator apart:
    ~1,100 calls for a 30 KB attachment, a third of the time spent building a message. An
    attachment's lines come ready-made from ``_base64``.
    """

    def _write_lines(self, lines: str) -> None:
        wire = _base64.wire(lines, self._linesep)
        if wire is not None:  # an attachment's base64 lines, the same in every message
            self._fp.write(wire)  # type: ignore[attr-defined]  # the buffer _write swaps in
        elif "\r" not in lines:
            self.write(lines.replace("\n", self._linesep))
        else:
            self.write(_LINE_ENDS.sub(self._linesep, lines))

    @property
    def _linesep(self) -> str:
        return self.policy.linesep if self.policy is not None else "\n"


def as_bytes(msg: EmailMessage) -> bytes:
    """``msg.as_bytes()``, faster: the wire form under the message's own policy."""
    out = BytesIO()
    _Generator(out, mangle_from_=False, policy=msg.policy).flatten(msg, unixfrom=False)
    return out.getvalue()


def freeze(
    draft: Draft, *, message_id: str | None = None, date: dt.datetime | None = None
) -> OutgoingMessage:
    """Build ``draft`` into bytes with its envelope; the bytes never carry Bcc."""
    msg = build_message(draft, message_id=message_id, date=date)
    envelope_from = (draft.envelope_from or draft.sender).envelope()
    data = as_bytes(msg)
    # Every line the generator writes ends in CRLF (a header value with a line break is refused
    # earlier), so only the last line and a line beginning with a dot need a look.
    plain = data.endswith(b"\r\n") and b"\r\n." not in data
    return OutgoingMessage(
        draft.key, str(msg["Message-ID"]), envelope_from, draft.recipients, data,
        draft.smtputf8, crlf=True, transparent=plain,
    )  # fmt: skip
