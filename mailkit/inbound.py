"""Recognise what came back: DSNs (RFC 3464), other bounces, auto-replies (RFC 3834), replies.

Pure functions over the stdlib ``email`` parser; nothing here touches IMAP or the outbox.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from enum import StrEnum

from .bounces import (
    bounce_sender,
    bounce_subject,
    delay_text,
    failure_text,
    reason_for,
    status_in,
)

__all__ = ["HEADER_FIELDS", "Inbound", "Kind", "Notice", "Outcome", "parse", "triage", "unxtext"]

# What the sync fetches for every new message (BODY.PEEK[HEADER.FIELDS (...)]).
HEADER_FIELDS = (
    "From", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence", "Return-Path",
    "X-Failed-Recipients",
)  # fmt: skip

_MSGID = re.compile(r"<[^<>\s]{3,250}>")
_EMBEDDED_ID = re.compile(r"^\s*Message-I[Dd]:\s*(<[^<>\s]{3,250}>)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")
_VACATION = re.compile(
    r"^(auto(matic)?[- ]?(reply|response|antwort)|auto:|out of (the )?office|vacation|"
    r"odpowied[źz] automatyczna|automatyczna odpowied[źz]|nieobecno[śs][ćc]|jestem na urlopie|"
    r"urlop\b|poza biurem)",
    re.IGNORECASE,
)


class Kind(StrEnum):
    """What an incoming message is."""

    DSN = "dsn"  # multipart/report; report-type=delivery-status (RFC 3464)
    BOUNCE = "bounce"  # a bounce in free text, recognised by careful heuristics
    AUTO_REPLY = "auto-reply"  # RFC 3834 Auto-Submitted, X-Autoreply, vacation replies
    REPLY = "reply"  # a person's answer (In-Reply-To / References)


class Outcome(StrEnum):
    """What a report says about one recipient."""

    DELIVERED = "delivered"
    DELAYED = "delayed"
    BOUNCED = "bounced"
    AUTO_REPLIED = "auto-replied"
    REPLIED = "replied"


_ACTIONS = {
    "delivered": Outcome.DELIVERED,
    "relayed": Outcome.DELIVERED,  # handed to a system that sends no reports (RFC 3464 2.3.3)
    "expanded": Outcome.DELIVERED,
    "delayed": Outcome.DELAYED,
    "failed": Outcome.BOUNCED,
}


@dataclass(frozen=True, slots=True)
class Notice:
    """One recipient in a report: outcome, addresses, status code, the server's words, reason."""

    outcome: Outcome
    recipient: str = ""  # Final-Recipient, or the replying address
    original: str = ""  # Original-Recipient (our ORCPT)
    status: str = ""  # 5.1.1
    diagnostic: str = ""
    reason: str = ""  # a code of bounces.REASONS


@dataclass(frozen=True)
class Inbound:
    """A recognised message: its kind, what it refers to and what it says per recipient."""

    kind: Kind
    report_id: str  # its Message-ID, else a digest of its headers
    sender: str
    subject: str
    date: float | None
    envid: str = ""  # the original's Message-ID from Original-Envelope-Id (RFC 3461 ENVID)
    refs: tuple[str, ...] = ()  # Message-IDs it refers to, the most specific first
    notices: tuple[Notice, ...] = ()
    addresses: tuple[str, ...] = ()  # addresses named in a free-text bounce


def unxtext(value: str) -> str:
    """RFC 3461 xtext decoded (``+2B`` -> ``+``)."""
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value)


def _address(value: object) -> str:
    """'rfc822; ala@example.com' -> 'ala@example.com' (RFC 3464 address-type; xtext undone)."""
    text = str(value or "").strip()
    _type, sep, address = text.partition(";")
    return unxtext((address if sep else text).strip().strip("<>"))


def _header(msg: Message, name: str) -> str:
    return " ".join(str(msg.get(name, "")).split())


def _report_id(msg: Message) -> str:
    found = _MSGID.search(_header(msg, "Message-ID"))
    if found:
        return found.group(0)
    basis = "|".join(_header(msg, h) for h in ("From", "Date", "Subject"))
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:32]


def _date(msg: Message) -> float | None:
    try:
        return parsedate_to_datetime(_header(msg, "Date")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _references(msg: Message) -> tuple[str, ...]:
    """In-Reply-To first (the message answered), then References newest first (RFC 5322 3.6.4)."""
    ids = _MSGID.findall(_header(msg, "In-Reply-To"))
    ids += reversed(_MSGID.findall(_header(msg, "References")))
    return tuple(dict.fromkeys(ids))


def _auto_submitted(msg: Message) -> bool:
    """RFC 3834 and the common non-standard markers of automatic answers."""
    auto = _header(msg, "Auto-Submitted").split(";")[0].strip().casefold()
    if auto and auto != "no":
        return True
    if _header(msg, "X-Autoreply").casefold() in ("yes", "true") or _header(msg, "X-Autorespond"):
        return True
    return _header(msg, "Precedence").casefold() == "auto_reply"


def _is_dsn(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).casefold() == "delivery-status"
    )


def triage(headers: Message) -> Kind | None:
    """A first guess from the headers alone; DSN and BOUNCE need the whole message to confirm."""
    if _is_dsn(headers):
        return Kind.DSN
    if bounce_sender(headers) or bounce_subject(_header(headers, "Subject")):
        return Kind.BOUNCE
    if _auto_submitted(headers) or _VACATION.match(_header(headers, "Subject")):
        return Kind.AUTO_REPLY
    if _references(headers):
        return Kind.REPLY
    return None


def parse(data: bytes, *, headers_only: bool = False) -> Inbound | None:
    """What ``data`` is, or None for ordinary mail (and for what cannot be told for sure)."""
    msg = (
        HeaderParser(policy=policy.default).parsestr(data.decode("utf-8", "replace"))
        if headers_only
        else message_from_bytes(data, policy=policy.default)
    )
    kind = triage(msg)
    if kind is Kind.DSN and not headers_only:
        return _dsn(msg)
    if kind is Kind.BOUNCE and not headers_only:
        found = _bounce(msg)
        if found is not None:
            return found
        kind = Kind.AUTO_REPLY if _auto_submitted(msg) else Kind.REPLY  # e.g. "Re: Undeliverable"
    if kind in (Kind.AUTO_REPLY, Kind.REPLY):
        return _answer(msg, kind)
    return None


def _base(msg: Message, kind: Kind, **fields: object) -> Inbound:
    sender = getaddresses([_header(msg, "From")])
    return Inbound(
        kind,
        _report_id(msg),
        sender[0][1] if sender else "",
        _header(msg, "Subject"),
        _date(msg),
        **fields,  # type: ignore[arg-type]
    )


def _answer(msg: Message, kind: Kind) -> Inbound | None:
    refs = _references(msg)
    if kind is Kind.REPLY and not refs:
        return None
    base = _base(msg, kind, refs=refs)
    outcome = Outcome.AUTO_REPLIED if kind is Kind.AUTO_REPLY else Outcome.REPLIED
    return replace(base, notices=(Notice(outcome, base.sender),))


def _dsn(msg: Message) -> Inbound | None:
    """RFC 3464: per-message fields, one block per recipient, the returned message or headers."""
    blocks: list[Message] = []
    returned: list[str] = []
    for part in msg.iter_parts():  # type: ignore[attr-defined]
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks = _status_blocks(part)
        elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            returned += _embedded_ids(part)
    if not blocks:
        return None
    first, rest = blocks[0], blocks[1:]
    envid = unxtext(_header(first, "Original-Envelope-Id"))
    notices = tuple(_notice(b) for b in rest if _header(b, "Final-Recipient"))
    envid = envid if not envid or envid.startswith("<") else f"<{envid}>"
    return _base(msg, Kind.DSN, envid=envid, refs=tuple(dict.fromkeys(returned)), notices=notices)


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status part (the stdlib splits message/delivery-status)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload)
    chunks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser(policy=policy.default).parsestr(c + "\n") for c in chunks if c.strip()]


def _notice(block: Message) -> Notice:
    action = _header(block, "Action").casefold()
    status = _header(block, "Status").split(" ")[0]
    diagnostic = _header(block, "Diagnostic-Code")
    _type, sep, words = diagnostic.partition(";")
    words = (words if sep else diagnostic).strip()
    outcome = _ACTIONS.get(action, Outcome.BOUNCED if status.startswith("5") else Outcome.DELAYED)
    reason = reason_for(status, words) if outcome in (Outcome.BOUNCED, Outcome.DELAYED) else ""
    return Notice(
        outcome,
        _address(block.get("Final-Recipient")),
        _address(block.get("Original-Recipient")),
        status,
        words[:300],
        reason,
    )


def _embedded_ids(part: Message) -> list[str]:
    """Message-ID of a returned message (message/rfc822) or returned headers."""
    if part.get_content_type() == "text/rfc822-headers":
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(part.get_payload())
        return _EMBEDDED_ID.findall(text)
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    if isinstance(inner, Message):
        return _MSGID.findall(_header(inner, "Message-ID"))[:1]
    return []


def _bounce(msg: Message) -> Inbound | None:
    """A free-text bounce, only when sender or subject and the text agree (a wrong match is
    worse than none): the original's Message-ID and failed addresses are taken from the text."""
    texts, ids = _texts(msg)
    body = "\n".join(texts)
    subject = _header(msg, "Subject")
    said_failed = failure_text(body) or failure_text(subject)
    delayed = delay_text(subject) or delay_text(body)
    if not (said_failed or delayed):
        return None
    if not bounce_sender(msg) and not (bounce_subject(subject) and ids):
        return None
    own = _report_id(msg)
    ids = [i for i in dict.fromkeys(ids + _EMBEDDED_ID.findall(body)) if i != own]
    status = status_in(body)
    outcome = Outcome.DELAYED if delayed and not status.startswith("5") else Outcome.BOUNCED
    reason = reason_for(status, body) if outcome is Outcome.BOUNCED else "delayed"
    line = _diagnostic_line(body, status)
    failed = [a for _n, a in getaddresses([_header(msg, "X-Failed-Recipients")]) if a]
    notices = tuple(Notice(outcome, a, "", status, line, reason) for a in failed or [""])
    found = tuple(dict.fromkeys(_ADDRESS.findall(_EMBEDDED_ID.sub("", body))))
    return _base(msg, Kind.BOUNCE, refs=tuple(ids), notices=notices, addresses=found)


def _diagnostic_line(body: str, status: str) -> str:
    """The line that carries the status code, else the first that says delivery failed."""
    lines = body.splitlines()
    found = [n for n in lines if status and status in n] or [n for n in lines if failure_text(n)]
    return " ".join(found[0].split())[:300] if found else ""


def _texts(msg: Message) -> tuple[list[str], list[str]]:
    """Text parts outside any returned message, and Message-IDs of returned messages/headers."""
    texts: list[str] = []
    ids: list[str] = []
    stack = [msg]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            ids += _embedded_ids(part)
        elif part.is_multipart():
            stack.extend(part.get_payload())  # type: ignore[arg-type]
        elif part.get_content_maintype() == "text":
            raw = part.get_payload(decode=True)
            charset = part.get_content_charset() or "utf-8"
            if isinstance(raw, bytes):
                texts.append(raw.decode(charset if _known(charset) else "utf-8", "replace"))
    return texts, ids


def _known(charset: str) -> bool:
    try:
        "".encode(charset)
    except LookupError:
        return False
    return True
