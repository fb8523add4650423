"""Cells read as their kind: PESEL, NIP and account numbers checked, amounts and dates parsed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mailkit.data import FieldKind, field_name, parse_amount, parse_date
from mailkit.data.fields import parse_cell
from mailkit.errors import DataError
from mailkit.formatting import Money


def test_field_names_become_identifiers() -> None:
    assert field_name(" z  dnia ") == "z_dnia"
    assert field_name("wysyłający") == "wysyłający"
    with pytest.raises(DataError):
        field_name("1st")


def test_valid_pesel_stays_text_with_its_leading_zero() -> None:
    value, warning = parse_cell(FieldKind.PESEL, "02270803624")
    assert value == "02270803624"
    assert warning is None


def test_pesel_that_lost_its_leading_zero_is_repaired_with_a_warning() -> None:
    value, warning = parse_cell(FieldKind.PESEL, "2270803624")
    assert value == "02270803624"
    assert warning is not None and "leading zero" in warning


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("02270803625", "check digit"), ("0227080362", "number of digits"), ("ABC", "digits")],
)
def test_invalid_pesel_says_why(cell: str, reason: str) -> None:
    with pytest.raises(DataError, match=reason):
        parse_cell(FieldKind.PESEL, cell)


def test_nip_accepts_separators_and_prefix() -> None:
    assert parse_cell(FieldKind.NIP, "PL 526-025-02-74")[0] == "5260250274"
    with pytest.raises(DataError, match="check digit"):
        parse_cell(FieldKind.NIP, "5260250275")


def test_polish_account_number_is_checked_and_formatted() -> None:
    value, _ = parse_cell(FieldKind.IBAN, "61 1090 1014 0000 0712 1981 2874")
    assert value == "PL61 1090 1014 0000 0712 1981 2874"
    with pytest.raises(DataError):
        parse_cell(FieldKind.IBAN, "61 1090 1014 0000 0712 1981 2875")


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("1234,56", "1234.56"),
        ("1 234,56 zł", "1234.56"),
        ("1\u00a0234,5", "1234.50"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("-12", "-12.00"),
        ("1234.5600000001", "1234.56"),
    ],
)
def test_amounts_in_polish_and_english_forms(cell: str, amount: str) -> None:
    assert parse_amount(cell) == Decimal(amount)


@pytest.mark.parametrize("cell", ["abc", "12,34,56", "NaN", "inf"])
def test_non_amounts_are_refused(cell: str) -> None:
    with pytest.raises(DataError, match="not an amount"):
        parse_amount(cell)


@pytest.mark.parametrize("cell", ["2026-11-22", "22.11.2026", "2026-11-22 00:00:00", "22-11-2026"])
def test_dates_in_the_usual_forms(cell: str) -> None:
    assert parse_date(cell) == dt.date(2026, 11, 22)


def test_a_bad_date_shows_the_expected_form() -> None:
    with pytest.raises(DataError, match=r"22\.11\.2026"):
        parse_date("31.02.2026")


def test_money_cells_become_money() -> None:
    value, _ = parse_cell(FieldKind.MONEY, "5 717,13")
    assert value == Money(Decimal("5717.13"))
