"""Privacy mode: e-mail addresses, PESEL numbers and amounts masked in lists and logs."""

from __future__ import annotations

import re
from decimal import Decimal

from .addresses import MailAddress
from .formatting import Money, format_value

__all__ = ["MASK", "mask_amount", "mask_email", "mask_pesel", "mask_text", "mask_value"]

MASK = "•••"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_PESEL = re.compile(r"(?<![\w])\d{11}(?![\w])")
_CURRENCY = r"(?:zł|PLN|EUR|USD|GBP|€|\$|£)"
_SPACE = "[ \u00a0\u202f]"
# 1 234,56 / 1,234.56 / 1234.56, optionally with a currency; a date (22.11.2026) is no amount.
_NUMBER = rf"\d{{1,3}}(?:(?:{_SPACE}|[.,])\d{{3}})*(?:[.,]\d{{2}})"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:{_CURRENCY}{_SPACE}?)?(?:{_NUMBER}|\d+[.,]\d{{2}})(?![\w]|[.,]\d)"
    rf"(?:{_SPACE}?{_CURRENCY})?"
    rf"|(?<![\w.,])\d+(?:{_SPACE}\d{{3}})*{_SPACE}?{_CURRENCY}"
)
_CURRENCY_ONLY = re.compile(_CURRENCY)


def mask_email(address: str | MailAddress) -> str:
    """'jan.kowalski@example.com' -> 'j•••@e•••.com': enough to tell rows apart, no more."""
    text = address.addr_spec if isinstance(address, MailAddress) else str(address).strip()
    name = ""
    if isinstance(address, MailAddress) and address.display_name:
        name = mask_text(address.display_name) + " "
    local, at, domain = text.rpartition("@")
    if not at:
        return MASK
    host, _dot, tld = domain.rpartition(".")
    masked_domain = f"{(host or tld)[:1]}{MASK}.{tld}" if host else f"{domain[:1]}{MASK}"
    masked = f"{local[:1]}{MASK}@{masked_domain}"
    return f"{name}<{masked}>" if name else masked


def mask_pesel(value: str) -> str:
    """'02270803624' -> '•••••••••24': the birth date and sex it encodes are hidden."""
    digits = str(value).strip()
    return "•" * max(len(digits) - 2, 0) + digits[-2:]


def mask_amount(value: Money | Decimal | str) -> str:
    """'1 234,56 zł' -> '••• zł': the currency stays, the amount goes."""
    if isinstance(value, Money):
        return f"{MASK} {value.currency}"
    currency = _CURRENCY_ONLY.search(str(value)) if isinstance(value, str) else None
    return f"{MASK} {currency.group(0)}" if currency else MASK


def mask_text(text: str) -> str:
    """Free text (a finding, a log line) with every address, PESEL and amount in it masked."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _PESEL.sub(lambda m: mask_pesel(m.group(0)), text)
    return _AMOUNT.sub(lambda m: mask_amount(m.group(0)), text)


def mask_value(value: object, kind: str = "text", locale: str | None = None) -> str:
    """A table cell as shown in privacy mode; ``kind`` is its field kind (email, pesel, ...)."""
    if value is None or value == "":
        return ""
    if isinstance(value, MailAddress) or kind in ("email", "emails"):
        if isinstance(value, tuple | list):
            return ", ".join(mask_email(v) for v in value)
        return mask_email(value if isinstance(value, MailAddress) else str(value))
    if isinstance(value, Money) or kind == "money":
        return mask_amount(value if isinstance(value, Money) else str(value))
    if kind == "pesel":
        return mask_pesel(str(value))
    return mask_text(format_value(value, locale))
