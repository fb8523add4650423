"""Body encodings cached for a batch: quoted-printable by line, base64 by file content."""

from __future__ import annotations

import binascii
from email.contentmanager import ContentManager, raw_data_manager
from email.message import MIMEPart
from typing import Any

__all__ = [
    "ALT_BOUNDARY",
    "ATTACHMENTS",
    "MIXED_BOUNDARY",
    "QuotedLines",
    "base64_lines",
    "qp_text",
    "set_text",
]


# Every part is quoted-printable or base64, and neither can contain "=_" (QP writes "=" as "=3D"),
# so fixed boundaries are safe (RFC 2045 section 6.7, RFC 2046 section 5.1.1); being the same for
# every message, the Content-Type headers are parsed once per batch, not once per message.
ALT_BOUNDARY = "=_mailkit_alternative"
MIXED_BOUNDARY = "=_mailkit_mixed"


class QuotedLines:
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


_quoted_printable = QuotedLines()


def qp_text(body: str) -> bytes:
    """A text body as UTF-8 quoted-printable lines (LF line ends, CRLF taken as one)."""
    return _quoted_printable(body.replace("\r\n", "\n").encode("utf-8"))


def set_text(part: MIMEPart, body: str, subtype: str) -> None:
    """A UTF-8 text part, quoted-printable (see ``QuotedLines``).

    ``set_content`` would do the same in pure Python and re-parse the Content-Type per part;
    these header values repeat in every message, so the policy's registry parses them once.
    """
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(qp_text(body).decode("ascii"))


B64_LINE = 76  # 57 bytes per line, as the email package writes it under a 78-column policy


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
                flat[i : i + B64_LINE] + b"\n" for i in range(0, len(flat), B64_LINE)
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


base64_lines = _EncodedFiles()


def _set_attachment(part: MIMEPart, data: bytes, maintype: str, subtype: str, **kw: Any) -> None:
    """The stock bytes handler for the headers, and the body as lines already encoded (it would
    encode line by line, and the generator copy them for every message)."""
    raw_data_manager.set_content(part, b"", maintype, subtype, cte="7bit", **kw)
    part.replace_header("Content-Transfer-Encoding", "base64")
    part.set_payload(base64_lines(data))


ATTACHMENTS = ContentManager()
ATTACHMENTS.add_set_handler(bytes, _set_attachment)
