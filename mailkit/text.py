"""Checks on text that ends up in headers: single-line values and blank cells."""

from __future__ import annotations

import math
import re
import unicodedata

from .i18n import _

__all__ = ["UNSAFE_PATTERN", "blank", "clean_cell", "single_line_problem"]

# CR, LF and every other control character, plus the Unicode line and paragraph separators:
# any of them in a header value could start a new header (RFC 5322 section 2.2).
_LINE_BREAKERS = {"\u2028": "U+2028", "\u2029": "U+2029", "\x85": "U+0085"}


UNSAFE_PATTERN = "[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]"
_UNSAFE = re.compile(UNSAFE_PATTERN)


def single_line_problem(value: str) -> str | None:
    """Say why ``value`` cannot go into a one-line field, or ``None`` when it can."""
    if _UNSAFE.search(value) is None:
        return None
    for ch in value:
        if ch in "\r\n":
            return _("it contains a line break, which could inject a header")
        if ch in _LINE_BREAKERS:
            return _("it contains the line separator {code}").format(code=_LINE_BREAKERS[ch])
        if ch != "\t" and unicodedata.category(ch) == "Cc":
            return _("it contains the control character U+{code:04X}").format(code=ord(ch))
    return None


def blank(value: object) -> bool:
    """True for a missing value: None, NaN, NaT or text with nothing but spaces."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    return type(value).__name__ in {"NaTType", "NAType"}  # pandas' missing markers


def clean_cell(value: object) -> str:
    """A table cell as text, with missing values as '' (never 'nan')."""
    if blank(value):
        return ""
    return str(value).strip()
