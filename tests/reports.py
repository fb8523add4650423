"""Builders of what comes back after sending: RFC 3464 DSNs, a free-text bounce, an auto-reply,
a person's reply and ordinary mail, each as the bytes an MTA or a mail client would deliver."""

from __future__ import annotations

import datetime as dt
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

REPORTER = "mx.klient.test"


def _id() -> str:
    return f"<{uuid.uuid4().hex}@{REPORTER}>"


def _now() -> str:
    return format_datetime(dt.datetime.now(dt.UTC))


def dsn(
    *,
    action: str,
    recipient: str,
    status: str,
    diagnostic: str = "",
    envid: str = "",
    original_headers: str = "",
    sender: str = "kadry@firma.example.com",
) -> bytes:
    """multipart/report; report-type=delivery-status (RFC 3464, RFC 6522) about one recipient.

    ``envid`` is the xtext Original-Envelope-Id as the MTA got it in MAIL FROM ENVID=;
    ``original_headers`` become the text/rfc822-headers part (what RET=HDRS returns).
    """
    boundary = f"dsn-{uuid.uuid4().hex}"
    human = {
        "failed": "Your message could not be delivered to one or more recipients.",
        "delayed": "Delivery of your message has been delayed; the server will retry.",
        "delivered": "Your message was successfully delivered to the destination.",
    }[action]
    per_message = f"Reporting-MTA: dns; {REPORTER}\r\n"
    if envid:
        per_message += f"Original-Envelope-Id: {envid}\r\n"
    per_message += f"Arrival-Date: {_now()}\r\n"
    per_rcpt = (
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; {REPORTER}\r\n"
    )
    if diagnostic:
        per_rcpt += f"Diagnostic-Code: smtp; {diagnostic}\r\n"
    if action == "delayed":
        per_rcpt += f"Will-Retry-Until: {_now()}\r\n"
    subject = {
        "failed": "Undelivered Mail Returned to Sender",
        "delayed": "Delayed Mail (still being retried)",
        "delivered": "Successful Mail Delivery Report",
    }[action]
    parts = [
        f"Content-Type: text/plain; charset=us-ascii\r\n\r\n{human}\r\n",
        f"Content-Type: message/delivery-status\r\n\r\n{per_message}\r\n{per_rcpt}",
    ]
    if original_headers:
        parts.append(f"Content-Type: text/rfc822-headers\r\n\r\n{original_headers.strip()}\r\n")
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{REPORTER}>\r\n"
        f"To: {sender}\r\nSubject: {subject}\r\nDate: {_now()}\r\nMessage-ID: {_id()}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
    )
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    return (head + "\r\n" + body).encode("ascii")


def original_headers(message_id: str, to: str, subject: str = "Pasek") -> str:
    """The headers of a sent message as a report returns them."""
    return (
        f"From: Kadry <kadry@firma.example.com>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: {_now()}\r\n"
    )


def plain_bounce(message_id: str, recipient: str) -> bytes:
    """A qmail-style bounce: no DSN, the reason in text, the original's headers quoted."""
    msg = EmailMessage()
    msg["From"] = f"MAILER-DAEMON@{REPORTER}"
    msg["To"] = "kadry@firma.example.com"
    msg["Subject"] = "failure notice"
    msg["Date"] = _now()
    msg["Message-ID"] = _id()
    msg.set_content(
        f"Hi. This is the qmail-send program at {REPORTER}.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{recipient}>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
        "--- Below this line is a copy of the message.\n\n"
        + original_headers(message_id, recipient).replace("\r\n", "\n")
    )
    return msg.as_bytes()


def auto_reply(message_id: str, sender: str, *, marked: bool = True) -> bytes:
    """A vacation answer (RFC 3834 Auto-Submitted, or only its subject when ``marked`` is off)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "kadry@firma.example.com"
    msg["Subject"] = "Odpowiedź automatyczna: Pasek"
    msg["Date"] = _now()
    msg["Message-ID"] = make_msgid(domain="klient.test")
    msg["In-Reply-To"] = message_id
    if marked:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("Jestem na urlopie do poniedziałku.")
    return msg.as_bytes()


def reply(message_id: str, sender: str, text: str = "Dziękuję, otrzymałem.") -> bytes:
    """A person's answer quoting the thread in References."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "kadry@firma.example.com"
    msg["Subject"] = "Re: Pasek"
    msg["Date"] = _now()
    msg["Message-ID"] = make_msgid(domain="klient.test")
    msg["In-Reply-To"] = message_id
    msg["References"] = f"<older@elsewhere.test> {message_id}"
    msg.set_content(text)
    return msg.as_bytes()


def ordinary(subject: str = "Newsletter", sender: str = "news@shop.test", text: str = "") -> bytes:
    """Mail that is none of the above."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "kadry@firma.example.com"
    msg["Subject"] = subject
    msg["Date"] = _now()
    msg["Message-ID"] = make_msgid(domain="shop.test")
    msg.set_content(text or "Promocja tygodnia.")
    return msg.as_bytes()
