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
        self.headers: tuple[str, ...] = ()
        self.choosers: dict[str, w.Dropdown] = {}
        self.names: dict[str, w.HTML] = {}
        self.as_of = css(w.DatePicker(layout=w.Layout(width="380px")), "mk-as-of")
        labels.text(self.as_of, N_("Overdue as of"))

    def show(
        self,
        fields: Sequence[ColumnSpec],
        headers: Sequence[str],
        chosen: Mapping[str, str],
        as_of: dt.date | None,
    ) -> None:
        """Offer ``headers`` for every field, ``chosen`` preselected; a date for reminders."""
        self.fields, self.headers = tuple(fields), tuple(headers)
        self.choosers, self.names = {}, {}
        rows = []
        for col in fields:
            choice = chosen.get(col.field, "")
            drop = w.Dropdown(options=self._options(), value=choice if choice in headers else "")
            css(drop, "mk-map", f"mk-map-{slug(col.field)}")
            name = css(w.HTML(_field_label(col)), "mk-map-field")
            rows.append(w.HBox([name, drop]))
            self.choosers[col.field], self.names[col.field] = drop, name
        if as_of is not None:
            self.as_of.value = as_of
            rows.append(self.as_of)
        self.children = rows

    def _options(self) -> list[tuple[str, str]]:
        return [(_("(not used)"), ""), *((h, h) for h in self.headers)]

    def relabel(self) -> None:
        """Write the fields' kinds and "(not used)" in the current language; choices stay."""
        for col in self.fields:
            self.names[col.field].value = _field_label(col)
            drop = self.choosers[col.field]
            choose(drop, self._options(), drop.value)

    @property
    def mapping(self) -> dict[str, str]:
        """Field -> chosen header ('' when left out)."""
        return {name: str(drop.value or "") for name, drop in self.choosers.items()}

    def missing(self) -> list[str]:
        """Required fields that have no column chosen."""
        chosen = self.mapping
        return [c.field for c in self.fields if c.required and not chosen.get(c.field)]


def _field_label(col: ColumnSpec) -> str:
    star = " *" if col.required else ""
    kind = escape(field_kind_label(col.kind))
    return f"<b>{escape(col.field)}</b>{star} <small>({kind})</small>"


class FindingsView(w.VBox):
    """The validation report: findings filtered by severity and column, masked when private."""

    def __init__(self, labels: Labels) -> None:
        self.severity = css(w.ToggleButtons(), "mk-filter-severity")
        labels.options(
            self.severity, [(N_("All"), ALL), (N_("Errors"), "error"), (N_("Warnings"), "warning")]
        )
        self.column = css(
            w.Dropdown(
                options=[(_("all columns"), ALL)], value=ALL, layout=w.Layout(width="380px")
            ),
            "mk-filter-column",
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
