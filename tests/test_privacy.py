"""Privacy mode: addresses, PESEL numbers and amounts masked wherever lists and logs show them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mailkit import parse_address
from mailkit.formatting import Money, format_money
from mailkit.privacy import mask_amount, mask_email, mask_pesel, mask_text, mask_value


def test_an_address_keeps_only_what_tells_rows_apart() -> None:
    assert mask_email("jan.kowalski@example.com") == "j•••@e•••.com"
    assert mask_email("faktury@pod-debem.example.net") == "f•••@p•••.net"
    assert mask_email(parse_address("Jan Nowak <jan@przykład.pl>")) == "Jan Nowak <j•••@p•••.pl>"
    assert mask_email("not an address") == "•••"


def test_a_pesel_hides_the_birth_date() -> None:
    assert mask_pesel("02270803624") == "•••••••••24"


@pytest.mark.parametrize("locale", ["pl_PL", "en_GB"])
def test_amounts_keep_their_currency_only(locale: str) -> None:
    money = Money(Decimal("12345.60"))
    assert mask_amount(money) == "••• PLN"
    written = format_money(money, locale)
    assert "12" not in mask_text(f"Do zapłaty: {written}.")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Kwota 1 234,56 zł do zapłaty", "Kwota ••• zł do zapłaty"),
        ("paid 500 zł", "paid ••• zł"),
        ("amount 47081.76", "amount •••"),
        ("PESEL 02270803624 jest błędny", "PESEL •••••••••24 jest błędny"),
        ("write to jan@example.org now", "write to j•••@e•••.org now"),
        # what is not personal stays: dates, invoice numbers, row numbers, NIP
        ("due 22.11.2026", "due 22.11.2026"),
        ("FV/2026/05/0001 row 42 (line 7)", "FV/2026/05/0001 row 42 (line 7)"),
        ("NIP 5260250274", "NIP 5260250274"),
    ],
)
def test_free_text_is_masked_where_it_names_a_person_or_an_amount(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_a_cell_is_masked_by_its_kind() -> None:
    assert mask_value("02270803624", "pesel") == "•••••••••24"
    assert mask_value("1200,00", "money") == "•••"
    assert mask_value(Money(Decimal(5))) == "••• PLN"
    assert mask_value("jan@example.org", "email") == "j•••@e•••.org"
    both = (parse_address("a@example.com"), parse_address("b@example.net"))
    assert mask_value(both, "emails") == "a•••@e•••.com, b•••@e•••.net"
    assert mask_value(None) == ""
    assert mask_value("Kowalski", "text") == "Kowalski"
