"""HTML the tabs show: escaped tables, findings, a sandboxed message frame, the age chart."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from ..findings import Finding
from ..formatting import format_money
from ..i18n import _
from ..overview import AgeTotal
from ..privacy import mask_amount, mask_text

__all__ = ["age_chart", "findings_table", "message_frame", "table", "text_block"]

# Remote content must not load from a preview: no tracking pixel fires, no script runs.
_CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "img-src data: cid:; style-src 'unsafe-inline'; font-src data:\">"
)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "", limit: int = 0
) -> str:
    """An HTML table of text cells (every cell escaped); ``limit`` rows at most, then a note."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    shown = total = 0
    for row in rows:
        total += 1
        if limit and shown >= limit:
            continue
        shown += 1
        body.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    note = ""
    if limit and total > shown:
        note = '<p class="mk-more">{}</p>'.format(
            escape(_("showing {shown} of {total} rows").format(shown=shown, total=total))
        )
    return (
        f'<table class="mk-table {cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{note}"
    )


def findings_table(findings: Sequence[Finding], *, privacy: bool, limit: int = 200) -> str:
    """Findings as a table: severity, row, line, column, message (masked in privacy mode)."""
    if not findings:
        return '<p class="mk-empty">{}</p>'.format(escape(_("No findings.")))

    def rows() -> Iterable[list[object]]:
        for f in findings:
            message = mask_text(f.message) if privacy else f.message
            row = mask_text(f.row or "") if privacy else (f.row or "")
            severity = _("error") if f.blocking else _("warning")
            yield [severity, row, f.line or "", f.column or "", message]

    headers = [_("severity"), _("row"), _("line in the file"), _("column"), _("message")]
    return table(headers, rows(), cls="mk-findings", limit=limit)


def text_block(text: str, cls: str = "mk-text") -> str:
    """Plain text shown as written (escaped, wrapped)."""
    return f'<pre class="{cls}" style="white-space: pre-wrap">{escape(text)}</pre>'


def message_frame(body: str, *, height: int = 460) -> str:
    """An HTML body in an iframe with an empty sandbox (no scripts, forms, popups or same
    origin) whose content-security policy also stops remote images and fonts."""
    doc = escape(_CSP + body, quote=True)
    return (
        f'<iframe class="mk-frame" sandbox="" referrerpolicy="no-referrer" srcdoc="{doc}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #bbb; background: #fff">'
        "</iframe>"
    )


def age_chart(totals: Sequence[AgeTotal], *, privacy: bool, locale: str) -> str:
    """An SVG bar chart of overdue amounts per age bucket, with amounts and invoice counts."""
    if not any(t.invoices for t in totals):
        return '<p class="mk-empty">{}</p>'.format(escape(_("No overdue invoices.")))
    top = max(float(t.amount.amount) for t in totals) or 1.0
    bar_h, gap, left, width = 26, 10, 90, 360
    parts = []
    for i, t in enumerate(totals):
        y = i * (bar_h + gap)
        length = int(width * float(t.amount.amount) / top)
        amount = mask_amount(t.amount) if privacy else format_money(t.amount, locale)
        count = _("{n} invoice(s)").format(n=t.invoices)
        parts.append(
            f'<text x="{left - 8}" y="{y + 18}" text-anchor="end">{escape(t.label)}</text>'
            f'<rect class="mk-bar" x="{left}" y="{y}" width="{max(length, 1)}" height="{bar_h}" '
            f'fill="#c0392b"><title>{escape(amount)}</title></rect>'
            f'<text x="{left + max(length, 1) + 6}" y="{y + 18}">'
            f"{escape(amount)} · {escape(count)}</text>"
        )
    height = len(totals) * (bar_h + gap)
    caption = escape(_("Overdue amounts by days past the due date"))
    return (
        f'<figure class="mk-chart"><figcaption>{caption}</figcaption>'
        f'<svg role="img" width="{left + width + 220}" height="{height}" '
        f'font-family="sans-serif" font-size="13">{"".join(parts)}</svg></figure>'
    )
