"""One address per recipient cell, explicit lists, IDN domains as A-labels, SMTPUTF8 flagged."""

from __future__ import annotations

import pytest

from mailkit.addresses import parse_address, parse_address_list, split_address_list
from mailkit.errors import DataError


def test_plain_address_keeps_its_parts() -> None:
    addr = parse_address("Jan.Kowalski@Example.com")
    assert addr.addr_spec == "Jan.Kowalski@example.com"
    assert addr.envelope() == "Jan.Kowalski@example.com"
    assert not addr.smtputf8


def test_display_name_form_is_accepted() -> None:
    addr = parse_address('"Kowalski, Jan" <jan@example.com>')
    assert addr.display_name == "Kowalski, Jan"
    assert addr.envelope() == "jan@example.com"


def test_idn_domain_becomes_an_a_label() -> None:
    addr = parse_address("jan@przykład.pl")
    assert addr.envelope() == "jan@xn--przykad-rjb.pl"
    assert addr.header().domain == "xn--przykad-rjb.pl"
    assert not addr.smtputf8


def test_non_ascii_local_part_is_flagged_for_smtputf8() -> None:
    addr = parse_address("użytkownik@przykład.pl")
    assert addr.smtputf8
    assert addr.ascii is None


@pytest.mark.parametrize("cell", ["a@example.com, b@example.com", "a@example.com; b@example.com"])
def test_a_cell_with_two_addresses_is_refused(cell: str) -> None:
    with pytest.raises(DataError, match="holds 2 addresses"):
        parse_address(cell)


@pytest.mark.parametrize(
    "cell", ["jan@example.com\r\nBcc: spy@example.net", "jan@example.com\x00", "a@b\u2028c.com"]
)
def test_line_breaks_and_control_characters_are_refused(cell: str) -> None:
    with pytest.raises(DataError, match="refused"):
        parse_address(cell)


def test_invalid_address_says_why() -> None:
    with pytest.raises(DataError, match="not a valid e-mail address"):
        parse_address("jan.kowalski@")


def test_list_splits_outside_quotes_only() -> None:
    assert split_address_list('"Nowak, Anna" <anna@example.com>; jan@example.com,') == [
        '"Nowak, Anna" <anna@example.com>',
        "jan@example.com",
    ]
    parsed = parse_address_list("anna@example.com, jan@example.org")
    assert [a.addr_spec for a in parsed] == ["anna@example.com", "jan@example.org"]


def test_empty_list_is_empty() -> None:
    assert parse_address_list("  ") == ()
