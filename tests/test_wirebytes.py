"""The direct writer gives, for every draft it takes, the bytes the email package gives."""

from __future__ import annotations

import datetime as dt
import random
from email.utils import format_datetime

import pytest

from mailkit.addresses import MailAddress, parse_address
from mailkit.errors import DataError
from mailkit.message import (
    Attachment,
    Draft,
    as_bytes,
    build_message,
    freeze,
    new_message_id,
    transparent,
)
from mailkit.wirebytes import wire_bytes

NAMES = [
    "",
    "Kadry i Płace",
    'Jan "Kowal" Nowak',
    "Nowak, Jan",
    "Zofia Wójcik, Sp. z o.o.",
    "a" * 90,
    "Zażółć gęślą jaźń " * 5,
    "=?utf-8?q?x?=",
    "Biuro (księgowość)",
    "O'Brien; Ltd.",
    "😀 emoji",
]
LOCALS = ["jan", "zofia.wojcik", "a+b", "x" * 40, "o'brien", "użytkownik"]
DOMAINS = ["example.com", "firma.example.pl", "przykład.pl"]
SUBJECTS = [
    "Pasek wynagrodzeń za 10/2026",
    "Reminder: " + "overdue invoice FV/2026/10/0012 " * 5,
    "Przypomnienie o płatności: 3 zaległe faktury — Przedsiębiorstwo Handlowe Żuraw Sp. z o.o.",
    "=?utf-8?q?Zaleg=C5=82o=C5=9B=C4=87?=",
    "x" * 200,
    "",
    " spacje na brzegach ",
    "😀 " * 30,
]
PIECES = ["a", " ", "\t", "=", ".", "ą", "\n", "\r\n", "\r", "x" * 74, "x" * 76, "é" * 40, "Dzień"]
FILES = [
    ("pasek.pdf", "application/pdf"),
    ("Pasek płacowy 10-2026.pdf", "application/pdf"),
    ('raport; "q".csv', "text/csv"),
    ("z" * 120 + ".zip", "application/zip"),
    ("obraz.png", "image/png"),
    ("dane", "application"),
]
HEADERS = [
    ("X-Mailer", "mailkit"),
    ("List-Unsubscribe", "<mailto:wypisz@firma.example.com>"),
    ("X-Kampania", "Przypomnienie o płatności za październik"),
    ("X-Long", "słowo " * 30),
    ("Content-Language", "pl"),  # moved to the first part of multipart/mixed: email package
    ("Sender", "biuro@firma.example.com"),  # parsed by the email package: its way
    ("X-Encoded", "=?utf-8?q?x?="),
]


def _address(rng: random.Random) -> MailAddress:
    address = f"{rng.choice(LOCALS)}@{rng.choice(DOMAINS)}"
    return parse_address(address, display_name=rng.choice(NAMES))


def _text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(PIECES) for _i in range(rng.randint(0, size)))


def _draft(rng: random.Random) -> Draft:
    files = []
    for _i in range(rng.choice([0, 0, 1, 2])):
        name, kind = rng.choice(FILES)
        files.append(Attachment(name, rng.randbytes(rng.choice([0, 1, 57, 58, 3000])), kind))
    return Draft(
        key="R1",
        sender=_address(rng),
        to=tuple(_address(rng) for _i in range(rng.randint(1, 4))),
        subject=rng.choice(SUBJECTS),
        text=_text(rng, 40),
        html=rng.choice([None, "<p>" + _text(rng, 20) + "</p>"]),
        cc=tuple(_address(rng) for _i in range(rng.choice([0, 0, 1, 2]))),
        reply_to=tuple(_address(rng) for _i in range(rng.choice([0, 1]))),
        attachments=tuple(files),
        headers=tuple(rng.sample(HEADERS, rng.choice([0, 0, 1, 2]))),
    )


def _moment(rng: random.Random) -> dt.datetime:
    offset = dt.timedelta(minutes=rng.choice([0, 60, 120, -300, 330, 765]))
    day = dt.datetime(2026, rng.randint(1, 12), rng.randint(1, 28), tzinfo=dt.timezone(offset))
    return day + dt.timedelta(seconds=rng.randint(0, 86399))


def test_the_writer_and_the_email_package_give_the_same_bytes() -> None:
    rng = random.Random(20261122)
    written = other = 0
    for _n in range(3000):
        made, when = _draft(rng), _moment(rng)
        message_id = new_message_id(made.sender.ascii_domain)
        try:
            stock = build_message(made, message_id=message_id, date=when)
        except DataError:
            with pytest.raises(DataError):
                freeze(made, message_id=message_id, date=when)
            continue
        expected = stock.as_bytes()
        assert as_bytes(stock) == expected
        frozen = expected if expected.endswith(b"\r\n") else expected + b"\r\n"  # as DATA ends it
        direct = wire_bytes(made, message_id, format_datetime(when))
        if direct is not None:
            written += 1
            assert direct == (expected, transparent(frozen)), made
        else:
            other += 1
        out = freeze(made, message_id=message_id, date=when)
        assert out.data == frozen
        assert out.transparent == transparent(frozen) and out.crlf
    assert written > 600 and other > 600  # both ways are compared, on many drafts


def test_unusual_drafts_take_the_email_package_way() -> None:
    sender = parse_address("kadry@firma.example.com")
    usual = Draft("R1", sender, (parse_address("jan@example.com"),), "Temat", "Treść\n")
    assert wire_bytes(usual, "<a@b.pl>", "Sun, 22 Nov 2026 10:00:00 +0000") is not None
    unusual = [
        Draft("R1", sender, (parse_address("użytkownik@example.com"),), "Temat", "x"),  # SMTPUTF8
        Draft("R1", sender, usual.to, "=?utf-8?q?x?=", "x"),  # looks encoded
        Draft("R1", sender, usual.to, "Temat", "x", headers=(("Content-Language", "pl"),)),
        Draft("R1", sender, usual.to, "Temat", "x", headers=(("Sender", "a@b.pl"),)),
    ]
    for made in unusual:
        assert wire_bytes(made, "<a@b.pl>", "Sun, 22 Nov 2026 10:00:00 +0000") is None
    assert wire_bytes(usual, "<a b@c.pl>", "Sun, 22 Nov 2026 10:00:00 +0000") is None
