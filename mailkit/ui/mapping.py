"""The column-mapping form and the filterable validation report of the Data tab."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import ipywidgets as w

from ..data import ColumnSpec
from ..findings import Finding
from ..i18n import N_, _
from ..labels import field_kind_label
from .html import findings_table
from .kit import Labels, choose, css

__all__ = ["FindingsView", "MappingForm", "slug"]

ALL = "*"


def slug(name: str) -> str:
    """An ASCII CSS-class fragment for a field name: 'dodatek_stażowy' -> 'dodatek-stazowy'."""
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l")).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", plain.decode().lower()).strip("-") or "field"


class MappingForm(w.VBox):
    """One drop-down of the file's headers per field the job reads; ``mapping`` is the choice
    (field -> header, '' for a field left out)."""

    def __init__(self, labels: Labels) -> None:
        super().__init__()
        css(self, "mk-mapping")
        self.labels = labels
        self.fields: tuple[ColumnSpec, ...] = ()
        self.choosers: dict[str, w.Dropdown] = {}
        self.as_of = css(w.DatePicker(), "mk-as-of")
        labels.text(self.as_of, N_("Overdue as of"))

    def show(
        self,
        fields: Sequence[ColumnSpec],
        headers: Sequence[str],
        chosen: Mapping[str, str],
        as_of: dt.date | None,
    ) -> None:
        """Offer ``headers`` for every field, ``chosen`` preselected; a date for reminders."""
        self.fields = tuple(fields)
        self.choosers = {}
        rows = []
        for col in fields:
            choice = chosen.get(col.field, "")
            options = [(_("(not used)"), ""), *((h, h) for h in headers)]
            drop = w.Dropdown(options=options, value=choice if choice in headers else "")
            css(drop, "mk-map", f"mk-map-{slug(col.field)}")
            star = " *" if col.required else ""
            kind = escape(field_kind_label(col.kind))
            name = w.HTML(f"<b>{escape(col.field)}</b>{star} <small>({kind})</small>")
            rows.append(w.HBox([css(name, "mk-map-field"), drop]))
            self.choosers[col.field] = drop
        if as_of is not None:
            self.as_of.value = as_of
            rows.append(self.as_of)
        self.children = rows

    @property
    def mapping(self) -> dict[str, str]:
        """Field -> chosen header ('' when left out)."""
        return {name: str(drop.value or "") for name, drop in self.choosers.items()}

    def missing(self) -> list[str]:
        """Required fields that have no column chosen."""
        chosen = self.mapping
        return [c.field for c in self.fields if c.required and not chosen.get(c.field)]


class FindingsView(w.VBox):
    """The validation report: findings filtered by severity and column, masked when private."""

    def __init__(self, labels: Labels) -> None:
        self.severity = css(w.ToggleButtons(), "mk-filter-severity")
        labels.options(
            self.severity, [(N_("All"), ALL), (N_("Errors"), "error"), (N_("Warnings"), "warning")]
        )
        self.column = css(
            w.Dropdown(options=[(_("all columns"), ALL)], value=ALL), "mk-filter-column"
        )
        labels.text(self.column, N_("Column"))
        self.table = css(w.HTML(), "mk-findings-view")
        super().__init__([w.HBox([self.severity, self.column]), self.table])
        css(self, "mk-findings-box")
        self.findings: tuple[Finding, ...] = ()
        self.privacy = False

    def show(self, findings: Sequence[Finding], *, privacy: bool) -> None:
        """Show ``findings`` with the current filter; the column list follows the findings."""
        self.findings = tuple(findings)
        self.privacy = privacy
        columns = sorted({f.column for f in self.findings if f.column})
        keep = self.column.value if self.column.value in columns else ALL
        choose(self.column, [(_("all columns"), ALL), *((c, c) for c in columns)], keep)
        self.render()

    def selected(self) -> list[Finding]:
        """The findings that pass the filter."""
        severity, column = self.severity.value, self.column.value
        return [
            f
            for f in self.findings
            if severity in (ALL, f.severity.value) and column in (ALL, f.column)
        ]

    def render(self, *_args: Any) -> None:
        """Redraw the table."""
        self.table.value = findings_table(self.selected(), privacy=self.privacy)
