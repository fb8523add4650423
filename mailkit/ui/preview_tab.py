"""The Preview tab: each message as its recipient will see it, with the findings about it."""

from __future__ import annotations

import time
from html import escape
from typing import ClassVar

import ipywidgets as w

from ..errors import MailkitError
from ..findings import Finding
from ..formatting import format_decimal, format_number
from ..i18n import N_, _
from ..merge import Merge
from ..overview import find_rows, recipient
from ..preview import MessageView
from ..privacy import mask_text
from .ahead import Ahead
from .html import findings_table, message_frame, table, text_block
from .kit import Panel, button, css
from .state import AppState

__all__ = ["PreviewTab"]

FORMATS = ((N_("HTML"), "html"), (N_("Text"), "text"), (N_("Source"), "eml"))


class PreviewTab(Panel):
    """Previous / next / find by recipient; headers, the sandboxed HTML or the text body, the
    attachments with their protection, and the preflight findings about this message."""

    title: ClassVar[str] = N_("Preview")
    css_name: ClassVar[str] = "mk-preview"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.prev_button = button("mk-prev")
        self.next_button = button("mk-next")
        self.position = css(w.HTML(), "mk-position")
        self.search = css(w.Text(continuous_update=False), "mk-search")
        self.find_button = button("mk-find")
        self.format = css(w.ToggleButtons(), "mk-format")
        self.row_findings = css(w.HTML(), "mk-row-findings")
        self.headers = css(w.HTML(), "mk-headers")
        self.body = css(w.HTML(), "mk-body")
        self.attachments = css(w.HTML(), "mk-attachments")
        self.timing = css(w.HTML(), "mk-timing")
        self.elapsed_ms = 0.0  # how long the last row took to build and show
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._merge: Merge | None = None
        self.shown: MessageView | None = None
        self.ahead = Ahead()
        lab = self.labels
        lab.text(self.prev_button, N_("◀ Previous"))
        lab.text(self.next_button, N_("Next ▶"))
        lab.text(self.search, N_("Recipient"), "placeholder")
        lab.text(self.find_button, N_("Find"))
        lab.options(self.format, FORMATS)
        self.children = [
            w.HBox([self.prev_button, self.next_button, self.position]),
            w.HBox([self.search, self.find_button]),
            self.notice,
            self.row_findings,
            self.headers,
            self.format,
            self.body,
            lab.heading(N_("Attachments")),
            self.attachments,
            self.timing,
        ]
        self._wire()

    def _wire(self) -> None:
        self.on_click(self.prev_button, lambda: self.step(-1))
        self.on_click(self.next_button, lambda: self.step(1))
        self.on_click(self.find_button, self.find)
        self.on_change(self.search, lambda _v: self.find())
        self.on_change(self.format, lambda _v: self.show_body())
        self.watch(["merge", "row", "privacy"], self.refresh)
        self.watch("report", self.show_findings)

    def _rows(self) -> list[str]:
        merge = self.state.merge
        if merge is not self._merge:
            self._merge = merge
            self._keys = merge.keys() if merge is not None else []
            self._index = {k: i for i, k in enumerate(self._keys)}
        return self._keys

    def step(self, delta: int) -> None:
        """Show the previous (-1) or next (+1) message."""
        keys = self._rows()
        if not keys:
            return
        at = self._index.get(self.state.row, 0)
        self.state.row = keys[(at + delta) % len(keys)]

    def find(self) -> None:
        """Show the next message whose key, recipient name or address contains the search."""
        merge, text = self.state.merge, self.search.value.strip()
        if merge is None or not text:
            return
        self._rows()  # the index of this merge, even if the tab has not drawn it yet
        found = find_rows(merge, text)
        if not found:
            self.notice.show(lambda: _("No message goes to {text}.").format(text=text), "warning")
            return
        at = self._index.get(self.state.row, -1)
        after = [k for k in found if self._index[k] > at]
        self.notice.show(lambda: _("{n} message(s) match.").format(n=len(found)), "info")
        self.state.row = (after or found)[0]

    def refresh(self) -> None:
        """Build and show the current row's message."""
        started = time.perf_counter()
        merge, keys = self.state.merge, self._rows()
        key = self.state.row
        self.shown = None
        if merge is None or key not in self._index:
            self.position.value = ""
            self.headers.value = self.body.value = self.attachments.value = ""
            self.row_findings.value = ""
            return
        self._show_position(merge, key, len(keys))
        at = self._index[key]
        around = (keys[at - 1], keys[(at + 1) % len(keys)])
        try:
            self.shown = self.ahead.view(merge, key, around)
        except MailkitError as err:
            self.headers.value = self.attachments.value = ""
            self.body.value = f'<p class="mk-row-error">{escape(err.message)}</p>'
        else:
            self.show_headers(self.shown)
            self.show_body()
            self.show_attachments(self.shown)
        self.show_findings()
        self.elapsed_ms = (time.perf_counter() - started) * 1000
        self.timing.value = "<small>{}</small>".format(
            escape(_("built in {ms} ms").format(ms=format_decimal(self.elapsed_ms)))
        )

    def _show_position(self, merge: Merge, key: str, total: int) -> None:
        who = recipient(merge.record(key))
        if self.state.privacy:
            who = mask_text(who)
        text = _("Message {n} of {total}: {key} — {who}").format(
            n=self._index[key] + 1, total=total, key=key, who=who
        )
        self.position.value = f"<b>{escape(text)}</b>"

    def show_headers(self, shown: MessageView) -> None:
        """The headers as the mail client shows them; BCC is only in the envelope."""
        rows = [[name, value] for name, value in shown.headers]
        if shown.bcc:
            rows.append([_("Bcc (envelope only)"), ", ".join(shown.bcc)])
        self.headers.value = table([_("Header"), _("Value")], rows, cls="mk-header-table")

    def show_body(self) -> None:
        """The body in the chosen form: sandboxed HTML, text, or the raw message."""
        shown = self.shown
        if shown is None:
            return
        fmt = self.format.value
        if fmt == "html" and shown.html is not None:
            self.body.value = message_frame(shown.html)
        elif fmt == "eml":
            self.body.value = text_block(shown.raw.decode("utf-8", "replace"), "mk-eml")
        else:
            note = ""
            if fmt == "html":
                note = '<p class="mk-note">{}</p>'.format(
                    escape(_("This message has no HTML body; its text is shown."))
                )
            self.body.value = note + text_block(shown.text)

    def show_attachments(self, shown: MessageView) -> None:
        """Attachments with type, size and how each is protected."""
        rows = [
            [name, mimetype, f"{format_number(size)} B", protection or _("not protected")]
            for name, mimetype, size, protection in shown.attachments
        ]
        if not rows:
            self.attachments.value = '<p class="mk-empty">{}</p>'.format(
                escape(_("No attachments."))
            )
            return
        headers = [_("File"), _("Type"), _("Size"), _("Protection")]
        self.attachments.value = table(headers, rows, cls="mk-attachment-table")

    def show_findings(self) -> None:
        """What preflight (or reading the table) found about this message."""
        merge, key, report = self.state.merge, self.state.row, self.state.report
        if merge is None or not key:
            self.row_findings.value = ""
            return
        found: tuple[Finding, ...] = (
            report.for_row(key) if report else tuple(f for f in merge.findings if f.row == key)
        )
        pending = (
            ""
            if report
            else '<p class="mk-pending">{}</p>'.format(
                escape(_("Preflight is still checking the messages."))
            )
        )
        if not found:
            ok = '<p class="mk-ok">{}</p>'.format(escape(_("No findings for this message.")))
            self.row_findings.value = pending + (ok if report else "")
            return
        self.row_findings.value = pending + findings_table(found, privacy=self.state.privacy)
