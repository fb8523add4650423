"""What a mapped column holds (its kind) and how one cell of that kind is read and checked."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from stdnum import iban as _iban
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.pl import nip as _nip
from stdnum.pl import pesel as _pesel

from ..addresses import parse_address, parse_address_list
from ..errors import DataError
from ..formatting import Money
from ..i18n import N_, _

__all__ = ["FieldKind", "default_kind", "field_name", "parse_cell"]


class FieldKind(StrEnum):
    """The kinds of value a column can hold."""

    TEXT = "text"
    EMAIL = "email"
    EMAILS = "emails"
    PESEL = "pesel"
    NIP = "nip"
    IBAN = "iban"
    MONEY = "money"
    DATE = "date"
    INTEGER = "integer"


# Fields whose name alone says what they hold; everything else is text unless typed in the job.
_KIND_BY_NAME = {
    "email": FieldKind.EMAIL,
    "cc": FieldKind.EMAILS,
    "bcc": FieldKind.EMAILS,
    "pesel": FieldKind.PESEL,
    "nip": FieldKind.NIP,
    "konto": FieldKind.IBAN,
    "iban": FieldKind.IBAN,
    "z_dnia": FieldKind.DATE,
    "data_od": FieldKind.DATE,
    "data_do": FieldKind.DATE,
    "termin": FieldKind.DATE,
    "brutto": FieldKind.MONEY,
    "zapłacono": FieldKind.MONEY,
}

_FIELD_NAME = re.compile(r"^[^\W\d]\w*$")


def field_name(name: str) -> str:
    """The identifier for a macro or field name: ``'z dnia'`` -> ``'z_dnia'``."""
    ident = "_".join(name.strip().split())
    if not _FIELD_NAME.match(ident):
        raise DataError(
            _(
                "'{name}' cannot name a field: use letters, digits and spaces, "
                "starting with a letter"
            ).format(name=name)
        )
    return ident


def default_kind(field: str) -> FieldKind:
    """The kind a field has when the job does not say."""
    return _KIND_BY_NAME.get(field.casefold(), FieldKind.TEXT)


_STDNUM_REASONS = {
    InvalidChecksum: N_("the check digit is wrong"),
    InvalidLength: N_("it has the wrong number of digits"),
    InvalidFormat: N_("it must contain digits only"),
    InvalidComponent: N_("it encodes an impossible date"),
}


def _stdnum_reason(err: ValidationError) -> str:
    for kind, reason in _STDNUM_REASONS.items():
        if isinstance(err, kind):
            return _(reason)
    return str(err)


def _parse_pesel(text: str) -> tuple[str, str | None]:
    digits = text.replace(" ", "")
    # A spreadsheet that stored PESEL as a number dropped its leading zero (people born 2000-2009).
    if len(digits) == 10 and digits.isdigit() and _pesel.is_valid("0" + digits):
        return "0" + digits, _(
            "PESEL {value} lost its leading zero (the spreadsheet stored it as a number); "
            "read as 0{value}. Format the column as text in the source file."
        ).format(value=digits)
    try:
        return _pesel.validate(digits), None
    except ValidationError as err:
        raise DataError(
            _("PESEL '{value}' is not valid: {reason}").format(
                value=text, reason=_stdnum_reason(err)
            )
        ) from err


def _parse_nip(text: str) -> tuple[str, str | None]:
    try:
        return _nip.validate(text), None
    except ValidationError as err:
        raise DataError(
            _("NIP '{value}' is not valid: {reason}").format(value=text, reason=_stdnum_reason(err))
        ) from err


def _parse_iban(text: str) -> tuple[str, str | None]:
    compact = _iban.compact(text)
    if len(compact) == 26 and compact.isdigit():  # a Polish NRB is an IBAN without "PL"
        compact = "PL" + compact
    try:
        return _iban.format(_iban.validate(compact)), None
    except ValidationError as err:
        raise DataError(
            _("account number '{value}' is not valid: {reason}").format(
                value=text, reason=_stdnum_reason(err)
            )
        ) from err


_MONEY_NOISE = re.compile(r"[\s\u00a0\u202f']|zł|PLN", re.IGNORECASE)
_CENT = Decimal("0.01")


def parse_amount(text: str) -> Decimal:
    """'1 234,56 zł', '1234.56' or '1.234,56' -> Decimal('1234.56'); DataError otherwise."""
    cleaned = _MONEY_NOISE.sub("", text)
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as err:
        raise DataError(_("'{value}' is not an amount").format(value=text)) from err
    if not value.is_finite():
        raise DataError(_("'{value}' is not an amount").format(value=text))
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y", "%Y.%m.%d")


def parse_date(text: str) -> dt.date:
    """'2026-11-22', '22.11.2026' or an Excel '2026-11-22 00:00:00' -> date; DataError otherwise."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DataError(
        _("'{value}' is not a date; write it as 2026-11-22 or 22.11.2026").format(value=text)
    )


def parse_cell(kind: FieldKind, text: str) -> tuple[object, str | None]:
    """Read one non-empty cell of ``kind``: (value, warning or None); DataError if invalid."""
    if kind is FieldKind.TEXT:
        return text, None
    if kind is FieldKind.EMAIL:
        return parse_address(text), None
    if kind is FieldKind.EMAILS:
        return parse_address_list(text), None
    if kind is FieldKind.PESEL:
        return _parse_pesel(text)
    if kind is FieldKind.NIP:
        return _parse_nip(text)
    if kind is FieldKind.IBAN:
        return _parse_iban(text)
    if kind is FieldKind.MONEY:
        return Money(parse_amount(text)), None
    if kind is FieldKind.DATE:
        return parse_date(text), None
    try:
        return int(text.replace(" ", "")), None
    except ValueError as err:
        raise DataError(_("'{value}' is not a whole number").format(value=text)) from err
