"""The message editor (subject, text, HTML with its 32 KB counter) and the macro palette."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import ipywidgets as w
from traitlets import Unicode

from ..formatting import format_number
from ..i18n import N_, _
from ..templates import HTML_LIMIT
from ..workbench import PaletteEntry, html_size
from .kit import Labels, button, css

__all__ = ["MacroPalette", "MessageEditor"]

_WIDE = w.Layout(width="98%")


class MessageEditor(w.VBox):
    """Subject, text body and HTML body; ``subject``, ``text`` and ``html`` mirror the fields
    (observe them), and the HTML size is counted against the 32 KB limit as you type."""

    subject = Unicode("")
    text = Unicode("")
    html = Unicode("")

    def __init__(self, labels: Labels, guard: Callable[[Any], Any], prefix: str = "mk") -> None:
        self.subject_box = css(w.Text(layout=_WIDE), f"{prefix}-subject")
        self.text_box = css(
            w.Textarea(layout=w.Layout(width="98%", height="220px")), f"{prefix}-text-body"
        )
        self.html_box = css(
            w.Textarea(layout=w.Layout(width="98%", height="220px")), f"{prefix}-html-body"
        )
        self.size = css(w.HTML(), f"{prefix}-html-size")
        labels.text(self.subject_box, N_("Subject"))
        labels.text(self.text_box, N_("Text"))
        labels.text(self.html_box, N_("HTML"))
        super().__init__([self.subject_box, self.text_box, self.html_box, self.size])
        css(self, "mk-editor")
        for trait, box in (
            ("subject", self.subject_box),
            ("text", self.text_box),
            ("html", self.html_box),
        ):
            w.link((self, trait), (box, "value"))
        counted = guard(self.count)
        self.observe(lambda _c: counted(), names="html")
        self.count()

    def fill(self, subject: str, text: str, html: str | None) -> None:
        """Replace everything in the editor."""
        with self.hold_trait_notifications():
            self.subject, self.text, self.html = subject, text, html or ""

    def count(self) -> None:
        """Show the HTML body's size against the limit (red above it)."""
        size = html_size(self.html)
        over = size > HTML_LIMIT
        text = _("HTML: {size} of {limit} bytes").format(
            size=format_number(size), limit=format_number(HTML_LIMIT)
        )
        if over:
            text += " — " + _("over the 32 KB limit: move images to links, shorten the styles")
        kind = "error" if over else "info"
        self.size.value = f'<small class="mk-{kind}">{escape(text)}</small>'

    def append(self, where: str, snippet: str) -> None:
        """Add ``snippet`` at the end of the 'subject', 'text' or 'html' field."""
        current = getattr(self, where)
        joiner = "" if not current or current.endswith((" ", "\n")) or where == "subject" else " "
        setattr(self, where, current + joiner + snippet)


class MacroPalette(w.VBox):
    """The macros a template may use, each with what it holds; Insert adds the chosen one."""

    def __init__(self, labels: Labels) -> None:
        self.entries: list[PaletteEntry] = []
        self.choice = css(w.Select(rows=8, layout=w.Layout(width="98%")), "mk-palette")
        self.about = css(w.HTML(), "mk-macro-about")
        self.target = css(w.ToggleButtons(), "mk-insert-target")
        self.insert_button = button("mk-insert-macro")
        labels.options(
            self.target, [(N_("Subject"), "subject"), (N_("Text"), "text"), (N_("HTML"), "html")]
        )
        self.target.value = "text"
        labels.text(self.insert_button, N_("Insert"))
        super().__init__([self.choice, self.about, w.HBox([self.target, self.insert_button])])
        css(self, "mk-macros")
        self.choice.observe(self._describe, names="value")

    def show(self, entries: Sequence[PaletteEntry]) -> None:
        """Offer ``entries`` (the first one chosen)."""
        self.entries = list(entries)
        self.choice.options = [(e.text.split("\n", 1)[0], i) for i, e in enumerate(entries)]
        self.choice.value = 0 if entries else None
        self._describe()

    @property
    def chosen(self) -> PaletteEntry | None:
        """The macro selected in the list."""
        index = self.choice.value
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def _describe(self, *_args: Any) -> None:
        entry = self.chosen
        self.about.value = "" if entry is None else f"<small>{escape(entry.description)}</small>"
