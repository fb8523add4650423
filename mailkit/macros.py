"""The macro vocabulary users know from the seed programs, with English aliases and descriptions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .i18n import N_, _

__all__ = [
    "GROUP_MACROS",
    "ITEM_MACROS",
    "SEED_MACROS",
    "Item",
    "Macro",
    "describe",
    "macro_names",
    "with_aliases",
]


@dataclass(frozen=True)
class Macro:
    """A macro: its Polish name as written in ``{...}``, its English alias, what it holds."""

    name: str
    alias: str
    description: str

    @property
    def ident(self) -> str:
        """The Jinja2 variable behind it: spaces become underscores."""
        return "_".join(self.name.split())


# The seed's macros ("Konfiguracja poczty"); most come from a mapped column of the same name.
SEED_MACROS = (
    Macro("numer", "number", N_("Document number")),
    Macro("numery", "numbers", N_("Document numbers, comma-separated")),
    Macro("umowa", "contract", N_("Contract number")),
    Macro("z dnia", "date", N_("Date the document was issued")),
    Macro("kontrahent", "customer", N_("Recipient of the document")),
    Macro("firma", "company", N_("Our company's name")),
    Macro("wysyłający", "sender", N_("Who sends it (falls back to the sender's name)")),
    Macro("data od", "date_from", N_("Start of the contract period")),
    Macro("data do", "date_to", N_("End of the contract period")),
    Macro("wystawiający", "issuer", N_("Who issued the document (empty when unknown)")),
)

# Values a reminder adds for the customer's group of overdue invoices.
GROUP_MACROS = (
    Macro("faktury", "invoices", N_("The overdue invoices (use in a {% for %} loop)")),
    Macro("suma", "total", N_("Total amount due")),
    Macro("liczba faktur", "count", N_("Number of overdue invoices")),
    Macro("termin", "due", N_("Due date of the oldest overdue invoice")),
    Macro("dni po terminie", "max_days", N_("Days the oldest invoice is overdue")),
    Macro("dziś", "today", N_("The as-of date of the reminder")),
)

# Keys of one invoice inside ``{% for f in faktury %}``.
ITEM_MACROS = (
    Macro("numer", "number", N_("Invoice number")),
    Macro("z dnia", "issued", N_("Issue date")),
    Macro("termin", "due", N_("Due date")),
    Macro("brutto", "gross", N_("Gross amount")),
    Macro("zapłacono", "paid", N_("Amount paid")),
    Macro("do zapłaty", "outstanding", N_("Amount still due")),
    Macro("dni", "days", N_("Days overdue")),
)


def macro_names(macros: Iterable[Macro]) -> list[str]:
    """Every name and alias of ``macros`` as Jinja2 identifiers."""
    out: list[str] = []
    for m in macros:
        out.extend([m.ident, m.alias])
    return out


def describe(name: str) -> str:
    """The translated description of a macro, or '' when it is a plain column."""
    for m in (*SEED_MACROS, *GROUP_MACROS):
        if name in (m.name, m.ident, m.alias):
            return _(m.description)
    return ""


class Item(dict[str, Any]):
    """One row inside a loop (an invoice): ``{{ f.numer }}``, ``{{ f["numer"] }}`` and the
    English alias ``{{ f.number }}`` all work, without storing every value twice."""

    def __missing__(self, name: str) -> Any:
        ident = _ITEM_ALIASES.get(name)
        if ident is None or ident not in self:
            raise KeyError(name)
        return self[ident]

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@cache
def _pairs(macros: tuple[Macro, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((m.ident, m.alias) for m in macros)


def with_aliases(values: Mapping[str, Any], macros: tuple[Macro, ...]) -> Item:
    """``values`` plus the English alias of every macro present under its Polish name."""
    out = Item(values)
    for ident, alias in _pairs(macros):
        if ident in out and alias not in out:
            out[alias] = out[ident]
    return out


_ITEM_ALIASES = {m.alias: m.ident for m in ITEM_MACROS}
