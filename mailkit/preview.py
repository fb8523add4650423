"""Preview one merged message exactly as it will be sent: parsed back from its final bytes."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email import policy as _policies
from email.message import MIMEPart
from typing import Literal

from .formatting import format_number
from .i18n import _
from .merge import Merge
from .message import Draft, OutgoingMessage, freeze
from .signing import describe_signature

__all__ = ["FORMATS", "MessageView", "preview", "read_back", "view"]

FORMATS = ("text", "html", "eml")
Format = Literal["text", "html", "eml"]


@dataclass(frozen=True)
class MessageView:
    """What the recipient sees, read back from the bytes: headers, bodies, attachments."""

    key: str
    headers: tuple[tuple[str, str], ...]
    bcc: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[tuple[str, str, int, str], ...]  # name, type, size, protection
    raw: bytes
    signature: str = ""  # who signed it (S/MIME), or ''

    def as_text(self) -> str:
        """Headers, then the plain-text body, then the attachment list."""
        lines = [f"{name}: {value}" for name, value in self.headers]
        if self.bcc:
            lines.append(
                _("Bcc (envelope only, not in the message): {list}").format(
                    list=", ".join(self.bcc)
                )
            )
        lines.append("")
        lines.append(self.text.rstrip("\n"))
        if self.signature:
            lines.append("")
            lines.append(_("Signed: {who}").format(who=self.signature))
        if self.attachments:
            lines.append("")
            lines.append(_("Attachments:"))
            for name, mimetype, size, protection in self.attachments:
                lock = f" [{protection}]" if protection else ""
                lines.append(f"  {name} ({mimetype}, {format_number(size)} B){lock}")
        return "\n".join(lines) + "\n"


_SHOWN = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID")


def view(draft: Draft, out: OutgoingMessage | None = None) -> MessageView:
    """Parse ``draft``'s final bytes back into what a mail client will show."""
    out = out or freeze(draft)
    protections = {a.filename: _(a.protection) if a.protection else "" for a in draft.attachments}
    bcc = tuple(a.envelope() for a in draft.bcc)
    return read_back(out.data, draft.key, protections=protections, bcc=bcc)


def read_back(
    data: bytes,
    key: str = "",
    *,
    protections: dict[str, str] | None = None,
    bcc: tuple[str, ...] = (),
) -> MessageView:
    """Any message's bytes (e.g. one the sink captured) as a mail client will show them;
    ``protections`` says how each attachment (by name) is protected, when known."""
    msg = message_from_bytes(data, policy=_policies.default)
    headers = tuple((h, str(msg[h])) for h in _SHOWN if msg[h] is not None)
    text_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    known = protections or {}
    signature = ""
    content: MIMEPart = msg
    if msg.get_content_type() == "multipart/signed":  # RFC 8551: the content, then the signature
        content, sig = list(msg.iter_parts())[:2]
        p7s = sig.get_payload(decode=True)
        signature = describe_signature(p7s if isinstance(p7s, bytes) else b"")
    attachments = []
    for part in content.iter_attachments():
        payload = part.get_payload(decode=True)
        name = part.get_filename() or ""
        attachments.append(
            (
                name,
                part.get_content_type(),
                len(payload) if isinstance(payload, bytes) else 0,
                known.get(name, ""),
            )
        )
    # Bodies travel with CRLF line ends (RFC 5322); shown, they use the platform's "\n".
    text = text_part.get_content().replace("\r\n", "\n") if text_part is not None else ""
    html = html_part.get_content().replace("\r\n", "\n") if html_part is not None else None
    return MessageView(key, headers, bcc, text, html, tuple(attachments), data, signature)


def preview(merge: Merge, key: str, fmt: Format = "text") -> str:
    """Row ``key`` as ``text`` (headers and body), ``html`` (the HTML body) or ``eml`` (raw)."""
    draft = merge.draft(merge.record(key))
    shown = view(draft, merge.freeze(draft))
    if fmt == "html":
        return (
            shown.html
            if shown.html is not None
            else _("<html><body><pre>(this message has no HTML body)</pre></body></html>")
        )
    if fmt == "eml":
        return shown.raw.decode("utf-8", errors="replace")
    return shown.as_text()
