"""A usual message's wire bytes, written directly: byte for byte what the email package writes.

Setting eight headers on an ``EmailMessage`` and running its generator costs about 120 µs a
message, most of a batch's build time. A batch's messages have one of a few shapes: plain text,
or text and HTML, with or without attachments, and ASCII addresses. For those, ``wire_bytes``
writes the same bytes with the same folders and encoders (``headerfold``, ``bodycodec``). For
anything else it returns None, and ``message.freeze`` builds with the email package. The tests
compare both ways on thousands of generated drafts.
"""

from __future__ import annotations

import functools
import re
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage

from .bodycodec import ALT_BOUNDARY, ATTACHMENTS, MIXED_BOUNDARY, base64_lines, qp_text
from .bodycodec import set_text as _set_text
from .headerfold import PLAIN_MSGID, POLICY, fold_addresses, fold_text, plain_text
from .messagetypes import Attachment, Draft

__all__ = ["wire_bytes"]

_CRLF = b"\r\n"
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_ALT, _MIXED = (b"--" + boundary.encode("ascii") for boundary in (ALT_BOUNDARY, MIXED_BOUNDARY))
# Names the email package parses in its own way, and Content-* (moved into the first part of a
# multipart/mixed message): drafts with such extra headers take the email package's way.
_OWN_WAY = frozenset(HeaderRegistry().registry)


def _fold(name: str, value: str) -> bytes:
    """``name: value`` folded by the policy's own header object (parsed once per batch)."""
    return POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])


def _heads(part: EmailMessage) -> bytes:
    """A part's header lines, as the generator writes them."""
    return b"".join(POLICY.fold_binary(name, value) for name, value in part.raw_items())


class _Blocks:
    """The header blocks every message of a batch repeats, each made once by the email package."""

    LIMIT = 4096  # attachment headers kept (one per file name and type)

    def __init__(self) -> None:
        self.text: dict[str, bytes] = {}
        self.files: dict[tuple[str, str], bytes] = {}
        self.alternative = _fold(
            "Content-Type", f'multipart/alternative; boundary="{ALT_BOUNDARY}"'
        )
        self.mixed = _fold("Content-Type", f'multipart/mixed; boundary="{MIXED_BOUNDARY}"')
        self.version = _fold("MIME-Version", "1.0")

    def text_head(self, subtype: str) -> bytes:
        found = self.text.get(subtype)
        if found is None:
            part = EmailMessage(policy=POLICY)
            _set_text(part, "", subtype)
            found = self.text[subtype] = _heads(part)
        return found

    def file_head(self, att: Attachment) -> bytes:
        """What ``EmailMessage.add_attachment`` gives the part of ``att``, but its body."""
        key = (att.mimetype, att.filename)
        found = self.files.get(key)
        if found is None:
            maintype, _sep, subtype = att.mimetype.partition("/")
            part = EmailMessage(policy=POLICY)
            part.set_content(
                b"", maintype=maintype, subtype=subtype or "octet-stream",
                filename=att.filename, content_manager=ATTACHMENTS,
            )  # fmt: skip
            if "content-disposition" not in part:
                part["Content-Disposition"] = "attachment"
            if len(self.files) >= self.LIMIT:
                self.files.clear()
            found = self.files[key] = _heads(part)
        return found


@functools.cache
def _shared() -> _Blocks:
    """One set for the process, made on first use."""
    return _Blocks()


def _lines(encoded: bytes) -> bytes:
    """The generator's line ends (CRLF) for an encoded body."""
    if b"\r" not in encoded:
        return encoded.replace(b"\n", _CRLF)
    return _LINE_ENDS.sub(_CRLF, encoded)


class _Pieces:
    """A message's bytes in pieces, joined once; notes whether a body line begins with a dot.

    Only a text body can hold such a line: header lines begin with a name or a space, boundary
    lines with "--" and base64 has no dot. Looking there only spares a scan of every attachment
    (a search for CRLF "." is slow on base64, whose lines all end in CRLF)."""

    def __init__(self, blocks: _Blocks) -> None:
        self.blocks = blocks
        self.out: list[bytes] = []
        self.dot = False

    def text(self, body: str, subtype: str) -> None:
        encoded = _lines(qp_text(body))
        self.dot = self.dot or encoded.startswith(b".") or b"\r\n." in encoded
        self.out += (self.blocks.text_head(subtype), _CRLF, encoded)

    def file(self, att: Attachment) -> None:
        lines = base64_lines(att.content)
        wire = base64_lines.wire(lines, "\r\n")
        self.out += (self.blocks.file_head(att), _CRLF, wire or _lines(lines.encode("ascii")))

    def content(self, draft: Draft) -> None:
        """The Content-Type header, a blank line and the body, as ``build_message`` makes them."""
        out, blocks = self.out, self.blocks
        if draft.attachments:
            out += (blocks.mixed, _CRLF, _MIXED, _CRLF)
        if draft.html is None:
            self.text(draft.text, "plain")
        else:
            out += (blocks.alternative, _CRLF, _ALT, _CRLF)
            self.text(draft.text, "plain")
            out += (_CRLF, _ALT, _CRLF)
            self.text(draft.html, "html")
            out += (_CRLF, _ALT, b"--", _CRLF)
        for att in draft.attachments:
            out += (_CRLF, _MIXED, _CRLF)
            self.file(att)
        if draft.attachments:
            out += (_CRLF, _MIXED, b"--", _CRLF)


def wire_bytes(draft: Draft, message_id: str, date: str) -> tuple[bytes, bool] | None:
    """The bytes ``as_bytes(build_message(draft, ...))`` gives, or None for an unusual draft;
    with them True when no line of them begins with a dot.

    ``date`` is the Date header's text (``email.utils.format_datetime``). Headers are expected
    checked already (``messagetypes.check_headers``)."""
    if draft.smtputf8 or not PLAIN_MSGID.fullmatch(message_id) or not plain_text(draft.subject):
        return None
    for name, value in draft.headers:
        low = name.lower()
        if low in _OWN_WAY or low.startswith("content-") or not plain_text(value):
            return None
    head = [
        fold_addresses("From", [draft.sender.header()], POLICY),
        fold_addresses("To", [a.header() for a in draft.to], POLICY),
    ]
    if draft.cc:
        head.append(fold_addresses("Cc", [a.header() for a in draft.cc], POLICY))
    if draft.reply_to:
        head.append(fold_addresses("Reply-To", [a.header() for a in draft.reply_to], POLICY))
    head.append(fold_text("Subject", draft.subject, POLICY))
    head.append(f"Date: {date}\r\nMessage-ID: {message_id}\r\n")
    head.extend(fold_text(name, value, POLICY) for name, value in draft.headers)
    try:
        text = "".join(head).encode("ascii")
    except UnicodeEncodeError:  # the email package's policy says what is wrong
        return None
    pieces = _Pieces(_shared())
    pieces.out += (text, pieces.blocks.version)
    pieces.content(draft)
    data = b"".join(pieces.out)
    return data, not pieces.dot
