"""Overdue invoices as of a date, grouped per customer: one record (one message) per customer.

Which invoices are overdue, and each customer's totals, are computed in bulk; the invoice rows a
template loops over are made only when it loops over them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, overload

import numpy as np
import pandas as pd

from ..findings import Finding, Severity
from ..formatting import Money
from ..i18n import _
from ..macros import Item
from .records import CheckedTable, MoneyColumn, Record, Records

__all__ = ["AGE_BUCKETS", "INVOICE_FIELDS", "OverdueItems", "age_bucket", "group_overdue"]

# Fields an invoice table must map for reminders; "zapłacono" (amount paid) is optional.
INVOICE_FIELDS = ("numer", "z_dnia", "termin", "brutto")

# Per-invoice values: the group speaks for the customer; these live in "faktury" only.
_PER_INVOICE = frozenset({"numer", "z_dnia", "termin", "brutto", "zapłacono"})

AGE_BUCKETS = ((1, 30, "1–30"), (31, 60, "31–60"), (61, 90, "61–90"), (91, None, "> 90"))

CustomerLoader = Callable[[set[str]], CheckedTable]


def age_bucket(days: int) -> str:
    """The label of the age bucket ('1–30', '31–60', '61–90', '> 90') for ``days`` overdue."""
    for low, high, label in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return ""


def _money_of(cents: int, currency: str = "PLN") -> Money:
    return Money(Decimal(cents).scaleb(-2), currency)


class OverdueItems(Sequence[Item]):
    """One customer's overdue invoices, oldest first; each row is made when it is read."""

    def __init__(self, table: CheckedTable, positions: list[int], as_of: dt.date) -> None:
        self._table = table
        self._positions = positions
        self._as_of = as_of

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        pos = self._positions[index]
        cols = self._table.columns
        gross: Money = cols["brutto"][pos]
        paid_col = cols.get("zapłacono")
        paid = (paid_col[pos] if paid_col is not None else None) or Money(
            Decimal("0.00"), gross.currency
        )
        due: dt.date = cols["termin"][pos]
        issued = cols["z_dnia"][pos] if "z_dnia" in cols else None
        return Item(
            numer=cols["numer"][pos],
            z_dnia=issued,
            termin=due,
            brutto=gross,
            zapłacono=paid,
            do_zapłaty=gross - paid,
            dni=(self._as_of - due).days,
        )

    def __iter__(self) -> Iterator[Item]:
        for i in range(len(self._positions)):
            yield self[i]

    def __repr__(self) -> str:
        return f"<{len(self)} overdue invoice(s)>"


def _cents(column: Sequence[Any] | None, n: int) -> np.ndarray:
    """Amounts of a column in whole grosze (0 where empty)."""
    if column is None:
        return np.zeros(n, dtype=np.int64)
    if isinstance(column, MoneyColumn):
        numbers = column.numbers
    else:
        numbers = np.array([float(m.amount) if m is not None else np.nan for m in column])
    cents: np.ndarray = np.rint(np.nan_to_num(numbers) * 100).astype(np.int64)
    return cents


def _overdue_frame(inv: CheckedTable, as_of: dt.date, group_field: str) -> pd.DataFrame:
    """One row per overdue, unblocked invoice: customer key, position, due day, grosze due."""
    cols = inv.columns
    n = len(inv)
    keys = pd.Series(cols[group_field], dtype=object)
    due_days = np.array([d.toordinal() if d is not None else 0 for d in cols["termin"]])
    outstanding = _cents(cols["brutto"], n) - _cents(cols.get("zapłacono"), n)
    ok = np.ones(n, dtype=bool)
    ok[list(inv.blocked)] = False
    mask = (
        ok
        & keys.notna().to_numpy()
        & (outstanding > 0)
        & (due_days > 0)
        & (due_days < as_of.toordinal())
    )
    frame = pd.DataFrame(
        {
            "key": keys[mask].astype(str).to_numpy(),
            "pos": np.flatnonzero(mask),
            "due": due_days[mask],
            "numer": pd.Series(cols["numer"], dtype=object)[mask].to_numpy(),
            "cents": outstanding[mask],
        }
    )
    return frame.sort_values(["key", "due", "numer"], kind="stable")


def _summaries(inv: CheckedTable, frame: pd.DataFrame, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Per customer: the invoices (lazily), their numbers, totals and the oldest due date."""
    if frame.empty:
        return {}
    keys = frame["key"].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])  # the frame is sorted by key
    ends = [*starts[1:].tolist(), len(keys)]
    totals = np.add.reduceat(frame["cents"].to_numpy(), starts).tolist()
    oldest = frame["due"].to_numpy()[starts].tolist()  # sorted by due date within a customer
    positions = frame["pos"].tolist()
    numbers = frame["numer"].tolist()
    first_issued = inv.columns.get("z_dnia")
    out: dict[str, dict[str, Any]] = {}
    for start, end, total, due_day in zip(starts.tolist(), ends, totals, oldest, strict=True):
        pos_list = positions[start:end]
        due = dt.date.fromordinal(due_day)
        out[str(keys[start])] = {
            "faktury": OverdueItems(inv, pos_list, as_of),
            "numery": ", ".join(numbers[start:end]),
            "numer": numbers[start],
            "z_dnia": first_issued[pos_list[0]] if first_issued is not None else None,
            "termin": due,
            "suma": _money_of(total),
            "liczba_faktur": end - start,
            "dni_po_terminie": (as_of - due).days,
        }
    return out


def _first_rows(inv: CheckedTable, group_field: str) -> tuple[dict[str, int], set[str]]:
    """The first row of every customer, and customers with a blocked invoice."""
    first: dict[str, int] = {}
    for pos, key in enumerate(inv.columns[group_field]):
        if key is not None and key not in first:
            first[str(key)] = pos
    keys = inv.columns[group_field]
    blocked = {str(keys[p]) for p in inv.blocked if keys[p] is not None}
    return first, blocked


def _customer_values(inv: CheckedTable, pos: int) -> dict[str, Any]:
    return {name: col[pos] for name, col in inv.columns.items() if name not in _PER_INVOICE}


def group_overdue(
    invoices: CheckedTable,
    as_of: dt.date,
    *,
    group_field: str,
    customers: CustomerLoader | None = None,
) -> Records:
    """One record per customer with overdue invoices; findings name invoice rows and columns.

    ``customers`` loads the customer table for the given keys only: addresses of customers
    who get no reminder are neither checked nor reported.
    """
    summaries = _summaries(invoices, _overdue_frame(invoices, as_of, group_field), as_of)
    first, blocked = _first_rows(invoices, group_field)
    wanted = set(summaries) | blocked
    table = customers(wanted) if customers is not None else None
    by_key = {table.keys[p]: p for p in range(len(table))} if table is not None else None
    findings = list(invoices.findings)
    if table is not None:
        findings.extend(table.findings)
    records: list[Record] = []
    for key in sorted(wanted, key=first.__getitem__):
        line = invoices.lines[first[key]]
        values = _customer_values(invoices, first[key])
        bad = key in blocked
        if by_key is not None:
            pos = by_key.get(key)
            if pos is None:
                findings.append(
                    Finding(
                        Severity.ERROR,
                        "unknown-customer",
                        _(
                            "{key} is not in the customer table, so the reminder has no "
                            "address; add the customer or correct the invoice"
                        ).format(key=key),
                        key,
                        invoices.spec.header(group_field),
                        line,
                    )
                )
                bad = True
            else:
                assert table is not None
                customer = table.record(pos)
                values.update({k: v for k, v in customer.values.items() if v is not None})
                bad = bad or customer.blocked
        if key in summaries:
            values.update(summaries[key])
        records.append(Record(key, line, values, bad or key not in summaries))
    extra = {
        "as_of": as_of,
        "invoices": len(invoices),
        "customers_without_overdue": len(first) - len(wanted),
    }
    return Records(tuple(records), tuple(findings), invoices.table, invoices.spec, extra)
