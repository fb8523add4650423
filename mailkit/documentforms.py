"""What each generated PDF says: the Document, filled in as a payslip or an overdue statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .data import FieldKind, TableSpec
from .errors import ConfigError
from .formatting import Money, format_date, format_value
from .i18n import _, locale_for
from .job import Job
from .jobsections import AttachmentSettings

__all__ = ["Document", "DocumentForm", "Line", "PayslipForm", "StatementForm"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a money table: a label, an amount, bold for totals."""

    label: str
    amount: Money | None
    bold: bool = False


@dataclass(frozen=True)
class Document:
    """What one generated PDF shows: a header, who it is for, key-value details and tables."""

    title: str
    company: str
    company_lines: tuple[str, ...]
    recipient: str
    details: tuple[tuple[str, str], ...]
    sections: tuple[tuple[str, tuple[Line, ...]], ...] = ()
    table_head: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    totals: tuple[Line, ...] = ()
    footer: str = ""


def _cell(value: Any, locale: str) -> str:
    """A value for a PDF cell: money and dates the reader's way, never 'None' or 'nan'."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    return format_value(value, locale)


def _details(pairs: Iterable[tuple[str, Any]], locale: str) -> tuple[tuple[str, str], ...]:
    out = []
    for label, value in pairs:
        text = _cell(value, locale)
        if text:
            out.append((label, text))
    return tuple(out)


def _total(values: Iterable[Money | None]) -> Money | None:
    total: Money | None = None
    for value in values:
        if value is not None:
            total = value if total is None else total + value
    return total


def _money_of(ctx: Mapping[str, Any], name: str | None) -> Money | None:
    value = ctx.get(name) if name else None
    return value if isinstance(value, Money) else None


# Fields a generated document never shows: addresses, and the PESEL (often the file's password).
_HIDDEN_KINDS = frozenset({FieldKind.EMAIL, FieldKind.EMAILS, FieldKind.PESEL, FieldKind.MONEY})
_NAME_FIELDS = ("imię", "nazwisko", "kontrahent")


class DocumentForm:
    """One kind of document for a job: the company header and footer, in the job's locale."""

    def __init__(self, settings: AttachmentSettings, job: Job) -> None:
        self.locale = locale_for(job.language)
        self.company = job.company
        self.lines = settings.header
        self.job = job

    def document(self, ctx: Mapping[str, Any], recipient: str) -> Document:
        """What one row's PDF shows, from its template context (in the current language)."""
        raise NotImplementedError

    def _footer(self, title: str) -> str:
        today = format_date(dt.date.today(), self.locale)
        return " · ".join(p for p in (self.company, title, today) if p)


class PayslipForm(DocumentForm):
    """A payslip: earnings up to the gross pay, deductions, the net pay; fields checked now."""

    def __init__(self, settings: AttachmentSettings, job: Job) -> None:
        super().__init__(settings, job)
        self._fields(settings, job.data)

    def _fields(self, settings: AttachmentSettings, spec: TableSpec) -> None:
        money = [c.field for c in spec.columns if c.kind is FieldKind.MONEY]
        gross = settings.gross if settings.gross in money else None
        net = settings.net if settings.net in money else None
        # Unless the job lists them: earnings come before the gross total, deductions after it.
        given = (*(settings.earnings or ()), *(settings.deductions or ()))
        rest = [f for f in money if f not in (gross, net, *given)]
        split = money.index(gross) if gross else len(money)
        earnings = settings.earnings
        if earnings is None:
            earnings = tuple(f for f in rest if money.index(f) < split)
        deductions = settings.deductions
        if deductions is None:
            deductions = tuple(f for f in rest if money.index(f) > split)
        for name, fields in (("earnings", earnings), ("deductions", deductions)):
            wrong = [f for f in fields if f not in money]
            if wrong:
                raise ConfigError(
                    _('attachments.{name}: {fields} must be mapped with type = "money"').format(
                        name=name, fields=", ".join(wrong)
                    ),
                    setting=f"attachments.{name}",
                )
        self.earnings, self.deductions, self.gross, self.net = earnings, deductions, gross, net
        self.labels = {c.field: c.header for c in spec.columns}
        self.shown = tuple(
            c.field
            for c in spec.columns
            if c.kind not in _HIDDEN_KINDS and c.field not in (*_NAME_FIELDS, "okres", "cc", "bcc")
        )

    def _money_lines(self, ctx: Mapping[str, Any], fields: Sequence[str]) -> tuple[Line, ...]:
        return tuple(Line(self.labels[f], _money_of(ctx, f)) for f in fields)

    def document(self, ctx: Mapping[str, Any], recipient: str) -> Document:
        earned = self._money_lines(ctx, self.earnings)
        taken = self._money_lines(ctx, self.deductions)
        gross = _money_of(ctx, self.gross) if self.gross else _total(x.amount for x in earned)
        taken_total = _total(x.amount for x in taken)
        net = _money_of(ctx, self.net) if self.net else None
        if net is None and gross is not None:
            net = gross - taken_total if taken_total is not None else gross
        if not recipient:  # no recipient_name in the job: the name columns, if mapped
            recipient = " ".join(_cell(ctx.get(f), self.locale) for f in _NAME_FIELDS[:2]).strip()
        period = _cell(ctx.get("okres"), self.locale)
        title = _("Payslip") + (f" {period}" if period else "")
        sections = [(_("Earnings"), (*earned, Line(_("Gross pay"), gross, True)))]
        if taken:
            sections.append(
                (_("Deductions"), (*taken, Line(_("Total deductions"), taken_total, True)))
            )
        return Document(
            title=title,
            company=self.company,
            company_lines=self.lines,
            recipient=recipient,
            details=_details(((self.labels[f], ctx.get(f)) for f in self.shown), self.locale),
            sections=tuple(sections),
            totals=(Line(_("Net pay"), net, True),),
            footer=self._footer(title),
        )


class StatementForm(DocumentForm):
    """An overdue payment statement: the customer, then one table row per unpaid invoice."""

    def document(self, ctx: Mapping[str, Any], recipient: str) -> Document:
        job = self.job
        specs = [s for s in (job.customers, job.data) if s is not None]
        labels = {c.field: c.header for s in reversed(specs) for c in s.columns}
        shown = [job.group_by] + [
            c.field
            for c in (job.customers.columns if job.customers else ())
            if c.kind not in _HIDDEN_KINDS and c.field not in (*_NAME_FIELDS, job.group_by)
        ]
        pairs = [(labels.get(f, f), ctx.get(f)) for f in shown]
        pairs.append((_("As of"), ctx.get("dziś")))
        rows = tuple(
            tuple(
                _cell(v, self.locale)
                for v in (
                    f["numer"],
                    f["z_dnia"],
                    f["termin"],
                    f["brutto"],
                    f["zapłacono"],
                    f["do_zapłaty"],
                    f["dni"],
                )
            )
            for f in ctx.get("faktury") or ()
        )
        title = _("Overdue payment statement")
        return Document(
            title=title,
            company=self.company,
            company_lines=self.lines,
            recipient=_cell(ctx.get("kontrahent"), self.locale)
            or _cell(ctx.get(job.group_by), self.locale),
            details=_details(pairs, self.locale),
            table_head=(
                _("Invoice"),
                _("Issued"),
                _("Due"),
                _("Gross"),
                _("Paid"),
                _("Outstanding"),
                _("Days overdue"),
            ),
            table=rows,
            totals=(Line(_("Total due"), _money_of(ctx, "suma"), True),),
            footer=self._footer(title),
        )
