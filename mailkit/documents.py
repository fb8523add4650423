"""Per-recipient PDFs (payslip, overdue statement) drawn with reportlab, Polish letters included.

The only module that uses reportlab; what each document says is in ``documentforms``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from .documentforms import Document, DocumentForm, Line, PayslipForm, StatementForm
from .errors import AttachmentError, ConfigError
from .fonts import find_font
from .formatting import Money, format_money
from .i18n import _, language, locale_for
from .job import Job
from .jobsections import AttachmentSettings

__all__ = ["Document", "DocumentMaker", "Line", "render_pdf"]

_REGISTERED: list[Path] = []


@cache
def _fonts(path: Path) -> tuple[str, str]:
    """Register the regular and bold faces once per process; their reportlab names."""
    regular = f"mk{len(_REGISTERED)}-{path.stem}"  # two files may share a name
    _REGISTERED.append(path)
    bold_file = path.with_name(path.stem + "-Bold" + path.suffix)
    try:
        pdfmetrics.registerFont(TTFont(regular, str(path)))
        bold = regular
        if bold_file.is_file():
            bold = regular + "-Bold"
            pdfmetrics.registerFont(TTFont(bold, str(bold_file)))
    except (TTFError, OSError) as err:
        raise ConfigError(
            _("the font {path} cannot be used: {reason}").format(path=path, reason=err),
            setting="attachments.font",
        ) from err
    return regular, bold


_W, _H = A4
_LEFT, _RIGHT, _TOP, _BOTTOM = 50.0, _W - 50.0, _H - 50.0, 60.0
# The statement's table: (left, right, alignment) of each column, in points.
_COLUMNS = (
    (_LEFT, 150, "l"),
    (155, 210, "l"),
    (215, 270, "l"),
    (275, 350, "r"),
    (355, 420, "r"),
    (425, 495, "r"),
    (500, _RIGHT, "r"),
)


class _Pages:
    """A canvas with a cursor that starts a new page (with the table head) when it runs out."""

    def __init__(self, doc: Document, fonts: tuple[str, str], compress: bool) -> None:
        self.buf = io.BytesIO()
        self.canvas = Canvas(self.buf, pagesize=A4, pageCompression=int(compress))
        self.canvas.setTitle(doc.title)
        self.canvas.setAuthor(doc.company)
        self.regular, self.bold = fonts
        self.doc = doc
        self.y = _TOP
        self.page = 1

    def text(
        self,
        x: float,
        text: str,
        size: float = 10,
        *,
        bold: bool = False,
        align: str = "l",
        width: float = _RIGHT - _LEFT,
        below: float = 0,
    ) -> None:
        font = self.bold if bold else self.regular
        wide = pdfmetrics.stringWidth(text, font, size)
        self.canvas.setFont(font, size * min(1.0, width / wide) if wide else size)  # shrink to fit
        draw = self.canvas.drawRightString if align == "r" else self.canvas.drawString
        draw(x, self.y - below, text)

    def down(self, points: float, head: Sequence[str] = ()) -> None:
        self.y -= points
        if self.y < _BOTTOM:
            self.new_page()
            if head:
                self.row(head, bold=True)

    def rule(self) -> None:
        self.canvas.setLineWidth(0.5)
        self.canvas.line(_LEFT, self.y, _RIGHT, self.y)

    def row(self, cells: Sequence[str], bold: bool = False) -> None:
        """A table row; a heading too wide for its column takes two lines rather than shrinking."""
        font = self.bold if bold else self.regular
        lines = 1
        for (left, right, align), cell in zip(_COLUMNS, cells, strict=False):
            parts = _fold(cell, font, 8.5, right - left) if bold else (cell,)
            lines = max(lines, len(parts))
            for i, part in enumerate(parts):
                x = right if align == "r" else left
                self.text(x, part, 8.5, bold=bold, align=align, width=right - left, below=i * 9.5)
        self.down(13 + 9.5 * (lines - 1), () if bold else self.doc.table_head)

    def footer(self) -> None:
        self.canvas.setFont(self.regular, 7.5)
        self.canvas.setFillGray(0.4)
        self.canvas.drawString(_LEFT, 35, self.doc.footer)
        self.canvas.drawRightString(_RIGHT, 35, _("page {n}").format(n=self.page))
        self.canvas.setFillGray(0)

    def new_page(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.page += 1
        self.y = _TOP

    def finish(self) -> bytes:
        self.footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buf.getvalue()


def _fold(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """``text`` on one line, or split at the space that best balances two lines."""
    words = text.split()
    if len(words) < 2 or pdfmetrics.stringWidth(text, font, size) <= width:
        return (text,)
    cut = min(
        range(1, len(words)),
        key=lambda i: max(
            pdfmetrics.stringWidth(" ".join(words[:i]), font, size),
            pdfmetrics.stringWidth(" ".join(words[i:]), font, size),
        ),
    )
    return " ".join(words[:cut]), " ".join(words[cut:])


def _header(pages: _Pages) -> None:
    doc = pages.doc
    half = (_RIGHT - _LEFT) / 2 - 10
    pages.text(_LEFT, doc.company, 13, bold=True, width=half)
    pages.text(_RIGHT, doc.title, 13, bold=True, align="r", width=half)
    for line in doc.company_lines:
        pages.down(12)
        pages.text(_LEFT, line, 8.5)
    pages.down(10)
    pages.rule()
    pages.down(26)
    pages.text(_LEFT, doc.recipient, 12, bold=True)
    for label, value in doc.details:
        pages.down(14)
        pages.text(_LEFT, label, 9)
        pages.text(_LEFT + 150, value, 9, width=_RIGHT - _LEFT - 150)
    pages.down(24)


def _money(value: Money | None, locale: str) -> str:
    return format_money(value, locale) if value is not None else ""


def _lines(pages: _Pages, lines: Sequence[Line], locale: str) -> None:
    for line in lines:
        if line.bold:
            pages.canvas.setLineWidth(0.3)
            pages.canvas.line(_LEFT + 260, pages.y + 10, _RIGHT, pages.y + 10)
        pages.text(_LEFT + 10, line.label, 10, bold=line.bold)
        pages.text(_RIGHT, _money(line.amount, locale), 10, bold=line.bold, align="r")
        pages.down(15)


def render_pdf(doc: Document, *, font: Path, lang: str, compress: bool = True) -> bytes:
    """Draw ``doc`` as a PDF in ``lang``; ``compress=False`` when pikepdf compresses it anyway."""
    locale = locale_for(lang)
    try:
        with language(lang):
            pages = _Pages(doc, _fonts(font), compress)
            _header(pages)
            for title, lines in doc.sections:
                pages.text(_LEFT, title, 11, bold=True)
                pages.down(17)
                _lines(pages, lines, locale)
                pages.down(8)
            if doc.table_head:
                pages.row(doc.table_head, bold=True)
                for cells in doc.table:
                    pages.row(cells)
                pages.down(6)
            _lines(pages, doc.totals, locale)
            return pages.finish()
    except (ValueError, KeyError, OSError) as err:  # reportlab reports bad glyphs and fonts so
        raise AttachmentError(_("the PDF cannot be drawn: {reason}").format(reason=err)) from err


class DocumentMaker:
    """Makes the job's document for each row; settings are checked when it is built."""

    def __init__(self, settings: AttachmentSettings, job: Job) -> None:
        self.kind = settings.generate
        self.font = find_font(settings.font)
        _fonts(self.font)  # a broken font is an error now, before any row
        self.lang = job.language
        if self.kind == "statement" and job.kind != "overdue":
            raise ConfigError(
                _('attachments.generate = "statement" needs kind = "overdue"'),
                setting="attachments.generate",
            )
        form = PayslipForm if self.kind == "payslip" else StatementForm
        self.form: DocumentForm = form(settings, job)

    def make(self, ctx: Mapping[str, Any], recipient: str, *, compress: bool = True) -> bytes:
        """The PDF for one row's template context; AttachmentError if it cannot be drawn."""
        with language(self.lang):
            doc = self.form.document(ctx, recipient)
        return render_pdf(doc, font=self.font, lang=self.lang, compress=compress)
