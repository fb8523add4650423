"""Why a message bounced: RFC 3463 status codes and bounce phrases (English, Polish) as reasons."""

from __future__ import annotations

import re
from email.message import Message

from .i18n import N_, _

__all__ = [
    "REASONS",
    "bounce_sender",
    "bounce_subject",
    "delay_text",
    "failure_text",
    "reason_for",
    "reason_text",
    "status_in",
]

# Reason codes kept in the outbox; shown through reason_text() in the reader's language.
REASONS = {
    "user-unknown": N_("user unknown: the address is probably wrong in the data"),
    "domain-unknown": N_("the domain does not exist or takes no mail: check the address"),
    "mailbox-full": N_("the recipient's mailbox is full"),
    "mailbox-disabled": N_("the recipient's mailbox is disabled"),
    "too-large": N_("the message is too large for the recipient's server"),
    "policy": N_("refused by the recipient's server (policy, spam filter or authentication)"),
    "address-syntax": N_("the address is not valid"),
    "routing": N_("the recipient's server cannot be reached"),
    "delayed": N_("delivery is delayed; the server keeps trying"),
    "other": N_("not delivered"),
}

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")  # RFC 3463

# By the enhanced code's subject and detail (RFC 3463 section 3); the first match wins.
_BY_STATUS = (
    (("1.1", "1.0"), "user-unknown"),
    (("1.2", "1.10", "4.4"), "domain-unknown"),
    (("1.3",), "address-syntax"),
    (("2.2",), "mailbox-full"),
    (("2.1",), "mailbox-disabled"),
    (("2.3", "3.4"), "too-large"),
    (("7.",), "policy"),
    (("4.",), "routing"),
)

_PHRASES = (
    ("user-unknown", (
        "user unknown", "unknown user", "no such user", "unknown recipient", "invalid recipient",
        "recipient address rejected", "mailbox unavailable", "mailbox not found", "no mailbox",
        "does not exist", "doesn't exist", "address not found", "no such recipient",
        "użytkownik nie istnieje", "nieznany użytkownik", "adres nie istnieje",
        "skrzynka nie istnieje", "brak takiego użytkownika", "nieznany odbiorca",
    )),
    ("mailbox-full", (
        "mailbox full", "mailbox is full", "over quota", "quota exceeded", "insufficient storage",
        "skrzynka jest pełna", "skrzynka pełna", "przepełnion", "przekroczony limit",
        "przekroczono limit",
    )),
    ("domain-unknown", (
        "host not found", "domain not found", "name or service not known", "no mx record",
        "host or domain name not found", "nie znaleziono domeny", "domena nie istnieje",
    )),
    ("too-large", ("message too large", "message size exceeds", "too big", "zbyt duża")),
    ("policy", ("blocked", "blacklist", "spam", "policy", "zablokowan")),
)  # fmt: skip

_FAILURE = (
    "could not be delivered", "couldn't be delivered", "undeliverable", "delivery failed",
    "delivery has failed", "permanent error", "permanently failed", "returned to sender",
    "delivery to the following recipient", "failed permanently", "was not delivered",
    "nie można dostarczyć", "nie mogła zostać dostarczona", "nie została dostarczona",
    "niedostarczon", "nie dostarczono", "błąd dostarczenia",
)  # fmt: skip

_DELAY = (
    "delivery delayed", "has been delayed", "is delayed", "not yet been delivered",
    "will retry", "will keep trying", "still trying", "delivery status notification (delay)",
    "opóźnion", "ponowi próbę", "jeszcze nie została dostarczona",
)  # fmt: skip

_BOUNCE_SUBJECTS = re.compile(
    r"undeliver|undelivered mail|returned mail|mail delivery failed|delivery (status )?"
    r"notification|delivery failure|failure notice|non[- ]?delivery|could not be delivered|"
    r"niedostarczon|nie można dostarczyć|zwrot wiadomości|wiadomość nie została dostarczona|"
    r"powiadomienie o (stanie )?dostarczeni|błąd dostarczenia",
    re.IGNORECASE,
)
_BOUNCE_LOCALS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_BOUNCE_NAMES = re.compile(
    r"mail delivery (sub)?system|mail delivery service|system administrator|mailer-daemon",
    re.IGNORECASE,
)


def status_in(text: str) -> str:
    """The first enhanced status code (5.1.1) in ``text``, or ''."""
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else ""


def reason_for(status: str, text: str) -> str:
    """A reason code from the status code, else from phrases in ``text``."""
    cls, _sep, rest = status.partition(".")
    if cls == "4":
        return "delayed"
    for prefixes, reason in _BY_STATUS if rest else ():
        if any(rest == p or (p.endswith(".") and rest.startswith(p)) for p in prefixes):
            return reason
    lowered = text.casefold()
    for reason, phrases in _PHRASES:
        if any(p in lowered for p in phrases):
            return reason
    return "other"


def reason_text(code: str) -> str:
    """The reason in the current language ('' for none)."""
    return _(REASONS[code]) if code in REASONS else code


def failure_text(text: str) -> bool:
    """True when ``text`` says in so many words that delivery failed."""
    lowered = text.casefold()
    return any(p in lowered for p in _FAILURE) or bool(re.search(r"\b5\.\d{1,3}\.\d{1,3}\b", text))


def delay_text(text: str) -> bool:
    """True when ``text`` says delivery is only delayed."""
    lowered = text.casefold()
    return any(p in lowered for p in _DELAY)


def bounce_sender(msg: Message) -> bool:
    """From MAILER-DAEMON/postmaster or "Mail Delivery System", or a null Return-Path (RFC 5321
    4.5.5: notifications are sent with an empty reverse path)."""
    sender = str(msg.get("From", ""))
    local = sender.rpartition("<")[2].split("@")[0].strip(" <>\"'").casefold()
    if local in _BOUNCE_LOCALS or _BOUNCE_NAMES.search(sender):
        return True
    return str(msg.get("Return-Path", "")).strip() == "<>"


def bounce_subject(subject: str) -> bool:
    """True for the usual subjects of bounce messages."""
    return bool(_BOUNCE_SUBJECTS.search(subject))
