"""Preflight: render and build every message of a merge and report every finding per row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import DsnOptions
from .errors import AttachmentError, DataError, MailkitError, ProtectionError, TemplateError
from .findings import Finding, Severity, format_finding
from .i18n import _
from .merge import Built, Merge
from .transports.base import Capabilities

__all__ = ["PreflightReport", "RowSummary", "finding_from_error", "preflight"]

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class RowSummary:
    """One message as preflight built it: who gets it, its subject and size."""

    key: str
    line: int
    to: str
    subject: str
    size: int
    attachments: int


@dataclass(frozen=True)
class PreflightReport:
    """All findings of a merge; ``ok`` when nothing blocks sending."""

    job: str
    findings: tuple[Finding, ...]
    rows: tuple[RowSummary, ...]
    total: int
    cancelled: bool = False

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that block sending."""
        return tuple(f for f in self.findings if f.blocking)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings shown but not blocking."""
        return tuple(f for f in self.findings if not f.blocking)

    @property
    def ok(self) -> bool:
        """True when every row was checked and nothing blocks sending."""
        return not self.cancelled and not self.errors

    def for_row(self, key: str) -> tuple[Finding, ...]:
        """Findings about one row."""
        return tuple(f for f in self.findings if f.row == key)

    def summary(self) -> str:
        """One line: how many messages are ready, errors and warnings."""
        text = _(
            "{job}: {ready} of {total} messages ready, {errors} error(s), {warnings} warning(s)"
        ).format(
            job=self.job,
            ready=len(self.rows),
            total=self.total,
            errors=len(self.errors),
            warnings=len(self.warnings),
        )
        if self.cancelled:
            text += _(" (cancelled before the end)")
        return text

    def table(self) -> list[dict[str, object]]:
        """The findings as rows for a CSV/XLSX report (see ``mailkit.data.write_report``)."""
        return [
            {
                _("severity"): _("error") if f.blocking else _("warning"),
                _("row"): f.row or "",
                _("line"): f.line or "",
                _("column"): f.column or "",
                _("code"): f.code,
                _("message"): f.message,
            }
            for f in self.findings
        ]

    def lines(self) -> list[str]:
        """The report as text lines: every finding, then the summary."""
        return [*(format_finding(f) for f in self.findings), self.summary()]


_CODES = {
    TemplateError: "template",
    DataError: "data",
    ProtectionError: "protection",  # before its base class: the first match wins
    AttachmentError: "attachment",
}


def finding_from_error(err: MailkitError, *, row: str | None, line: int | None) -> Finding:
    """A MailkitError about one row, as an error finding naming the row and column."""
    code = next((c for t, c in _CODES.items() if isinstance(err, t)), "message")
    column = getattr(err, "column", None) or getattr(err, "macro", None)
    return Finding(Severity.ERROR, code, err.message, row, column, line)


def preflight(
    merge: Merge,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    size_limit: int | None = None,
    capabilities: Capabilities | None = None,
    dsn: DsnOptions | None = None,
    on_message: Callable[[Built], None] | None = None,
) -> PreflightReport:
    """Render and build every row; nothing is sent. ``size_limit`` is the server's SIZE.

    ``capabilities`` (from the server's EHLO) turn SIZE, SMTPUTF8 and DSN into findings;
    ``on_message`` receives every message that passed, so a batch can journal it in the same
    pass instead of rendering everything twice.
    """
    findings = list(merge.findings)
    if capabilities is not None:
        size_limit = size_limit or capabilities.size
        if dsn is not None and dsn.requested and not capabilities.dsn:
            findings.append(_dsn_finding())
    rows: list[RowSummary] = []
    total = len(merge.records.records)
    done = 0
    cancelled = False
    for built in merge.messages():
        if cancel and cancel():
            cancelled = True
            break
        done += 1
        if progress and (done % 200 == 0):
            progress(done, total)
        record, draft, out = built.record, built.draft, built.message
        if built.error is not None or draft is None or out is None:
            assert built.error is not None
            findings.append(finding_from_error(built.error, row=record.key, line=record.line))
            continue
        if draft.smtputf8:
            findings.append(_smtputf8_finding(built, capabilities))
            if findings[-1].blocking:
                continue
        if size_limit and len(out.data) > size_limit:
            findings.append(
                Finding(
                    Severity.ERROR,
                    "size",
                    _("the message has {size} bytes; the server accepts at most {limit}").format(
                        size=len(out.data), limit=size_limit
                    ),
                    record.key,
                    None,
                    record.line,
                )
            )
            continue
        rows.append(
            RowSummary(
                record.key,
                record.line,
                ", ".join(str(a) for a in draft.to),
                draft.subject,
                len(out.data),
                len(draft.attachments),
            )
        )
        if on_message is not None:
            on_message(built)
    if progress:
        progress(total if not cancelled else done, total)
    return PreflightReport(merge.job.name, tuple(findings), tuple(rows), total, cancelled)


def _smtputf8_finding(built: Built, capabilities: Capabilities | None) -> Finding:
    """A non-ASCII local part: a warning, or an error when the server lacks SMTPUTF8."""
    record = built.record
    if capabilities is not None and not capabilities.smtputf8:
        return Finding(
            Severity.ERROR,
            "smtputf8",
            _(
                "an address has non-ASCII characters before the @ and the server does not offer "
                "SMTPUTF8, so it cannot be sent; ask the recipient for an ASCII address or leave "
                "the row out"
            ),
            record.key,
            "email",
            record.line,
        )
    return Finding(
        Severity.WARNING,
        "smtputf8",
        _(
            "an address has non-ASCII characters before the @; only a server offering "
            "SMTPUTF8 accepts it"
        ),
        record.key,
        "email",
        record.line,
    )


def _dsn_finding() -> Finding:
    return Finding(
        Severity.WARNING,
        "dsn",
        _(
            "delivery notifications are asked for, but the server does not offer DSN; messages "
            "are sent without them"
        ),
        None,
        "batch.dsn",
    )
