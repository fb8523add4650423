"""Recognising reports: RFC 3464 DSNs, free-text bounces (conservatively), auto-replies, replies."""

from __future__ import annotations

from reports import auto_reply, dsn, ordinary, original_headers, plain_bounce, reply

from mailkit.bounces import reason_for, reason_text
from mailkit.inbound import Kind, Outcome, parse, unxtext
from mailkit.transports.smtp import xtext

MID = "<0a1b2c3d+x=y@firma.example.com>"


def test_failed_dsn_gives_envid_recipient_status_and_reason() -> None:
    envid = xtext(MID.strip("<>"))  # as the SMTP transport sends ENVID
    raw = dsn(
        action="failed",
        recipient="nikt@klient.test",
        status="5.1.1",
        diagnostic="550 5.1.1 <nikt@klient.test>: Recipient address rejected: User unknown",
        envid=envid,
        original_headers=original_headers(MID, "nikt@klient.test"),
    )
    found = parse(raw)
    assert found is not None
    assert found.kind is Kind.DSN
    assert found.envid == MID
    assert found.refs == (MID,)
    (notice,) = found.notices
    assert notice.outcome is Outcome.BOUNCED
    assert (notice.recipient, notice.original, notice.status) == (
        "nikt@klient.test",
        "nikt@klient.test",
        "5.1.1",
    )
    assert "User unknown" in notice.diagnostic
    assert notice.reason == "user-unknown"
    assert "wrong in the data" in reason_text(notice.reason)


def test_delayed_and_delivered_dsns() -> None:
    delayed = parse(dsn(action="delayed", recipient="a@klient.test", status="4.4.1"))
    delivered = parse(dsn(action="delivered", recipient="b@klient.test", status="2.0.0"))
    assert delayed is not None and delivered is not None
    assert delayed.notices[0].outcome is Outcome.DELAYED
    assert delayed.notices[0].reason == "delayed"
    assert delivered.notices[0].outcome is Outcome.DELIVERED
    assert delivered.notices[0].reason == ""


def test_free_text_bounce_with_quoted_headers() -> None:
    found = parse(plain_bounce(MID, "nikt@klient.test"))
    assert found is not None
    assert found.kind is Kind.BOUNCE
    assert found.refs == (MID,)
    assert "nikt@klient.test" in found.addresses
    assert found.notices[0].outcome is Outcome.BOUNCED
    assert found.notices[0].status == "5.1.1"
    assert found.notices[0].reason == "user-unknown"


def test_bounce_heuristics_are_conservative() -> None:
    # A person writing about a failed delivery is not a bounce...
    person = ordinary("Re: faktura", "jan@klient.test", "Your e-mail could not be delivered?")
    assert parse(person) is None
    # ...nor is a postmaster notice that reports no failure.
    notice = ordinary("Mailbox almost full", "postmaster@klient.test", "You use 91% of quota.")
    assert parse(notice) is None
    # A bounce-like subject from an ordinary sender without the original's headers: unsure.
    assert parse(ordinary("Undeliverable: faktura", "jan@klient.test", "not delivered")) is None
    # A person answering about a bounce is still a reply.
    answer = reply(MID, "jan@klient.test", "Undeliverable? It was not delivered, resend please")
    answer = answer.replace(b"Subject: Re: Pasek", b"Subject: Re: Undeliverable: Pasek")
    found = parse(answer)
    assert found is not None and found.kind is Kind.REPLY


def test_auto_reply_by_header_and_by_subject_and_a_human_reply() -> None:
    marked = parse(auto_reply(MID, "jan@klient.test"))
    subject_only = parse(auto_reply(MID, "jan@klient.test", marked=False))
    answer = parse(reply(MID, "jan@klient.test"))
    assert marked is not None and subject_only is not None and answer is not None
    assert marked.kind is Kind.AUTO_REPLY and subject_only.kind is Kind.AUTO_REPLY
    assert marked.notices[0].outcome is Outcome.AUTO_REPLIED
    assert answer.kind is Kind.REPLY
    assert answer.refs[0] == MID  # In-Reply-To first, then References newest first
    assert answer.notices[0].recipient == "jan@klient.test"
    assert parse(ordinary()) is None


def test_reasons_from_codes_and_polish_phrases() -> None:
    assert reason_for("5.2.2", "") == "mailbox-full"
    assert reason_for("5.1.10", "") == "domain-unknown"  # null MX (RFC 7505)
    assert reason_for("5.7.1", "") == "policy"
    assert reason_for("", "Użytkownik nie istnieje") == "user-unknown"
    assert reason_for("", "Skrzynka jest pełna") == "mailbox-full"
    assert reason_for("4.2.2", "") == "delayed"
    assert unxtext("a+2Bb+3Dc") == "a+b=c"
