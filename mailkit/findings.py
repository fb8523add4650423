"""Findings: what a check found in one row and column, as data rather than exceptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .i18n import _

__all__ = ["Finding", "Severity", "format_finding"]


class Severity(StrEnum):
    """Errors block sending; warnings are shown and do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which row (its key and file line), which column, what and what to do."""

    severity: Severity
    code: str
    message: str
    row: str | None = None
    column: str | None = None
    line: int | None = None

    @property
    def blocking(self) -> bool:
        """True when this finding stops the batch from being sent."""
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        """'row P0012 (line 14), column "E-mail"' in the current language."""
        parts = []
        if self.row is not None:
            parts.append(_("row {row}").format(row=self.row))
        if self.line is not None:
            parts.append(_("(line {line})").format(line=self.line))
        if self.column:
            parts.append(_('column "{column}"').format(column=self.column))
        return " ".join(parts)


def format_finding(finding: Finding) -> str:
    """One line for a terminal or log: severity, place, message."""
    labels = (_("ERROR"), _("warning"))
    # A column as wide as the longest label in this language ("ostrzeżenie" in Polish), and
    # one space more: English keeps its layout of 8 characters.
    width = max(len(text) for text in labels) + 1
    label = labels[0] if finding.blocking else labels[1]
    where = finding.where
    head = f"{label:{width}}"
    return f"{head} {where}: {finding.message}" if where else f"{head} {finding.message}"


def count(findings: Iterable[Finding]) -> tuple[int, int]:
    """(errors, warnings) in ``findings``."""
    errors = warnings = 0
    for f in findings:
        if f.blocking:
            errors += 1
        else:
            warnings += 1
    return errors, warnings
