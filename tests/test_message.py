"""Draft -> bytes: headers from validated parts, no Bcc on the wire, MIME structure, Message-ID."""

from __future__ import annotations

import binascii
import datetime as dt
import random
from dataclasses import replace
from email import message_from_bytes
from email import policy as email_policy

import pytest

from mailkit.addresses import parse_address, parse_address_list
from mailkit.bodycodec import QuotedLines
from mailkit.errors import DataError
from mailkit.message import (
    Attachment,
    Draft,
    as_bytes,
    build_message,
    freeze,
    transparent,
)


def draft(**changes: object) -> Draft:
    values: dict[str, object] = {
        "key": "P1",
        "sender": parse_address("kadry@firma.example.com", display_name="Kadry i Płace"),
        "to": (parse_address("zofia@example.com", display_name="Zofia Wójcik, Sp. z o.o."),),
        "subject": "Pasek wynagrodzeń za 10/2026",
        "text": "Dzień dobry,\nw załączeniu pasek.\n",
        "html": "<html><body><p>Dzień dobry</p></body></html>",
        "cc": parse_address_list("szef@firma.example.com"),
        "bcc": parse_address_list("archiwum@firma.example.com"),
        "reply_to": parse_address_list("odpowiedzi@firma.example.com"),
    }
    values.update(changes)
    return Draft(**values)  # type: ignore[arg-type]


def parse(data: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(data, policy=email_policy.default)


def test_headers_round_trip_with_polish_names() -> None:
    out = freeze(draft())
    msg = parse(out.data)
    assert msg["From"].addresses[0].display_name == "Kadry i Płace"
    assert msg["To"].addresses[0].display_name == "Zofia Wójcik, Sp. z o.o."
    assert msg["Subject"] == "Pasek wynagrodzeń za 10/2026"
    assert str(msg["Cc"]) == "szef@firma.example.com"
    assert str(msg["Reply-To"]) == "odpowiedzi@firma.example.com"
    assert msg["Date"].datetime.tzinfo is not None
    assert out.data.isascii()
    assert all(len(line) <= 78 for line in out.data.split(b"\r\n"))


def test_bcc_is_envelope_only() -> None:
    out = freeze(draft())
    assert b"archiwum@firma.example.com" not in out.data
    assert parse(out.data)["Bcc"] is None
    assert out.recipients == (
        "zofia@example.com",
        "szef@firma.example.com",
        "archiwum@firma.example.com",
    )


def test_recipients_are_deduplicated() -> None:
    out = freeze(draft(cc=parse_address_list("zofia@example.com"), bcc=()))
    assert out.recipients == ("zofia@example.com",)


def test_message_id_uses_the_sender_domain_not_this_host() -> None:
    out = freeze(draft())
    assert out.message_id.endswith("@firma.example.com>")
    assert parse(out.data)["Message-ID"] == out.message_id
    assert freeze(draft(), message_id=out.message_id).message_id == out.message_id


def test_body_is_multipart_alternative_with_attachments_after_it() -> None:
    pdf = Attachment("pasek-10-2026.pdf", b"%PDF-1.7\n" + bytes(range(256)), "application/pdf")
    msg = parse(freeze(draft(attachments=(pdf,))).data)
    assert msg.get_content_type() == "multipart/mixed"
    body, attached = list(msg.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in body.iter_parts()] == ["text/plain", "text/html"]
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == draft().text
    assert attached.get_filename() == "pasek-10-2026.pdf"
    assert attached.get_content() == pdf.content


def test_text_only_message_is_a_single_part() -> None:
    msg = parse(freeze(draft(html=None)).data)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"


def test_idn_recipient_goes_out_as_a_labels() -> None:
    out = freeze(draft(to=(parse_address("jan@przykład.pl"),), cc=(), bcc=()))
    assert out.recipients == ("jan@xn--przykad-rjb.pl",)
    assert b"jan@xn--przykad-rjb.pl" in out.data
    assert not out.smtputf8


def test_non_ascii_local_part_needs_smtputf8() -> None:
    out = freeze(draft(to=(parse_address("użytkownik@przykład.pl"),), cc=(), bcc=()))
    assert out.smtputf8
    assert "użytkownik@xn--przykad-rjb.pl" in out.recipients


@pytest.mark.parametrize(
    ("changes", "header"),
    [
        ({"subject": "Pasek\r\nBcc: spy@example.net"}, "Subject"),
        ({"headers": (("X-Job", "a\nb"),)}, "X-Job"),
    ],
)
def test_line_breaks_in_header_values_are_refused(changes: dict[str, object], header: str) -> None:
    with pytest.raises(DataError, match=f"the {header} header is refused") as caught:
        build_message(draft(**changes))
    assert caught.value.row == "P1" and caught.value.column == header


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(DataError, match="no recipient"):
        build_message(draft(to=()))


def test_date_can_be_fixed_for_reproducible_output() -> None:
    when = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
    msg = parse(freeze(draft(), date=when).data)
    assert msg["Date"].datetime == when


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"html": None},
        {"text": "a\rb\r\nc\nd\n\n", "html": "<p>x</p>\r\n"},
        {"attachments": (Attachment("umowa.pdf", b"%PDF-1.4\n" * 4000, "application/pdf"),)},
        {
            "to": (parse_address("lukasz@example.com", display_name="Łukasz Żółć"),),
            "subject": "Zażółć",
        },
    ],
)
def test_fast_writer_gives_the_same_bytes_as_the_email_package(changes: dict[str, object]) -> None:
    made = draft(**changes)
    when = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    msg = build_message(made, message_id="<fixed@firma.pl>", date=when)
    assert as_bytes(msg) == msg.as_bytes()
    assert freeze(made, message_id="<fixed@firma.pl>", date=when).data == msg.as_bytes()


@pytest.mark.parametrize(
    "subject",
    [
        "Przypomnienie o płatności",
        "Przypomnienie o płatności: 3 zaległe faktury — Przedsiębiorstwo Handlowe Żuraw Sp. z o.o.",
        "Reminder: " + "overdue invoice FV/2026/10/0012 " * 5,
        "😀 " * 40,
    ],
)
def test_subjects_survive_folding_and_keep_lines_short(subject: str) -> None:
    data = freeze(draft(subject=subject)).data
    assert parse(data)["Subject"] in (subject, subject.strip())
    head = data.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"To:"))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"html": None, "text": ".kropka na początku\n..dwie\nkoniec bez nowej linii"},
        {"html": None, "text": "a\rb\r\nc\nd"},
        {"html": "<html><body>\n.x</body></html>"},
        {"attachments": (Attachment("umowa.pdf", b"%PDF-1.4\n" * 4000, "application/pdf"),)},
        {"html": None, "text": ("Kwota do zapłaty. " * 40)},  # soft line breaks before dots
    ],
)
def test_freeze_says_truly_what_smtp_data_needs(changes: dict[str, object]) -> None:
    """``crlf`` and ``transparent`` let sending skip its scans, so they must never be wrong."""
    out = freeze(draft(**changes))
    lines = out.data.count(b"\n")
    assert out.crlf  # the generator ends every line in CRLF
    assert out.data.count(b"\r") == lines and out.data.count(b"\r\n") == lines
    assert out.transparent == transparent(out.data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\r\nb\r\n", True),
        (b"a\r\n.b\r\n", False),
        (b".a\r\n", False),
        (b"a\r\nb", False),
        (b"a\nb\r\n", False),
        (b"a\rb\r\n", False),
        (b"a\n\rb\r\n", False),
    ],
)
def test_transparent_means_data_takes_the_bytes_unchanged(data: bytes, expected: bool) -> None:
    assert transparent(data) is expected


_QP_TEXTS = [
    "Dzień dobry,\nw załączeniu pasek.\n",
    "koniec ze spacją \nkoniec z tabem\t\n=znak równości= i kropka\n.\n..\n",
    "Kwota do zapłaty: 1 234,56 zł. " * 40 + "\nbez końca linii",
    "a\rb\nc\r\n",  # a CR: encoded whole
    "\n\n\nx" + "ż" * 100 + "\n",
    "",
]


@pytest.mark.parametrize("text", _QP_TEXTS)
def test_quoted_printable_by_line_is_the_whole_text_encoding(text: str) -> None:
    encode = QuotedLines()
    data = text.encode("utf-8")
    for _twice in range(2):  # encoded, then from the lines kept
        assert encode(data) == binascii.b2a_qp(data, istext=True)


def test_quoted_printable_by_line_matches_on_random_texts() -> None:
    pieces = ["a", " ", "\t", "=", ".", "ą", "\n", "\n", "x" * 74, "x" * 76, "é" * 40]
    pieces += ["\x00", "\x0b\x0c\x1c"]  # not line breaks for bytes.splitlines
    rng = random.Random(20261122)
    encode = QuotedLines()
    for _n in range(3000):
        data = "".join(rng.choice(pieces) for _i in range(rng.randint(0, 25))).encode("utf-8")
        assert encode(data) == binascii.b2a_qp(data, istext=True), data


def test_messages_sharing_lines_and_files_are_each_as_the_email_package_makes_them() -> None:
    """Lines and attachments encoded once for a batch still give every message its own bytes."""
    when = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 120
    for name in ("Zofia", "Łukasz", "Zofia"):
        made = draft(
            text=f"Dzień dobry {name},\n" + "stała treść przypomnienia. " * 30 + "\n",
            attachments=(Attachment("pasek.pdf", pdf, "application/pdf"),),
        )
        ours = build_message(made, message_id="<fixed@firma.pl>", date=when)
        stock = build_message(replace(made, attachments=()), message_id="<fixed@firma.pl>",
                              date=when)  # fmt: skip
        stock.add_attachment(pdf, maintype="application", subtype="pdf", filename="pasek.pdf")
        stock.set_boundary(ours.get_boundary() or "")
        assert as_bytes(ours) == stock.as_bytes() == ours.as_bytes()
        body = parse(as_bytes(ours)).get_body(("plain",)).get_content()
        assert body.replace("\r\n", "\n") == made.text
