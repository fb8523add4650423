"""A merge at a glance: reminders per customer, overdue amounts by age, rows found by recipient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .addresses import MailAddress
from .data import AGE_BUCKETS, Record, age_bucket
from .formatting import Money
from .merge import Merge

__all__ = ["AgeTotal", "CustomerRow", "age_totals", "customer_rows", "find_rows", "recipient"]


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One reminder: the customer, its address, how many invoices, how much, since when."""

    key: str
    name: str
    email: MailAddress | None
    invoices: int
    total: Money | None
    oldest_due: dt.date | None
    days: int | None
    blocked: bool


@dataclass(frozen=True, slots=True)
class AgeTotal:
    """Overdue invoices in one age bucket ('1–30' days, ...): how many, how much."""

    label: str
    invoices: int
    amount: Money


def customer_rows(merge: Merge) -> list[CustomerRow]:
    """Every reminder of an overdue job, in file order (empty for other jobs)."""
    if merge.job.kind != "overdue":
        return []
    out = []
    for rec in merge.records.records:
        v = rec.values
        out.append(
            CustomerRow(
                rec.key,
                str(v.get("kontrahent") or ""),
                v.get("email"),
                int(v.get("liczba_faktur") or 0),
                v.get("suma"),
                v.get("termin"),
                v.get("dni_po_terminie"),
                rec.blocked,
            )
        )
    return out


def age_totals(merge: Merge) -> list[AgeTotal]:
    """Overdue amounts per age bucket over every reminder (every bucket listed, even empty)."""
    counts = {label: 0 for _low, _high, label in AGE_BUCKETS}
    sums = {label: Decimal(0) for label in counts}
    currency = "PLN"
    if merge.job.kind == "overdue":
        for rec in merge.records.records:
            for item in rec.values.get("faktury") or ():
                label = age_bucket(int(item["dni"]))
                if label:
                    due: Money = item["do_zapłaty"]
                    currency = due.currency
                    counts[label] += 1
                    sums[label] += due.amount
    return [AgeTotal(label, counts[label], Money(sums[label], currency)) for label in counts]


def recipient(record: Record) -> str:
    """Who a row goes to, for lists: the name the table gives and the address."""
    v = record.values
    name = str(v.get("kontrahent") or "") or " ".join(
        str(v[k]) for k in ("imię", "nazwisko") if v.get(k)
    )
    email = v.get("email")
    address = email.addr_spec if isinstance(email, MailAddress) else ""
    if name and address:
        return f"{name} <{address}>"
    return name or address


def find_rows(merge: Merge, text: str, keys: Sequence[str] | None = None) -> list[str]:
    """Keys of rows whose key, recipient name or address contains ``text`` (any case)."""
    needle = text.strip().casefold()
    rows: Iterable[Record] = merge.records.records
    if keys is not None:
        rows = (merge.record(k) for k in keys)
    if not needle:
        return [r.key for r in rows]
    return [r.key for r in rows if needle in f"{r.key} {recipient(r)}".casefold()]
