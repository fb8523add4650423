"""What the local sink captured: the newest messages listed, and one opened as received."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..errors import ConfigError
from ..formatting import format_number
from ..i18n import N_, _
from ..preview import MessageView
from ..privacy import mask_text
from ..sentlog import captured, open_captured
from ..sink import Captured
from .html import message_frame, table, text_block
from .kit import Labels, Notice, button, choose, css
from .state import AppState
from .work import Activity, Cancel, Progress

__all__ = ["SinkView"]

LISTED = 200  # the newest messages offered (a sink may hold many thousands)


class SinkView(w.VBox):
    """The sink's folder, its newest messages, and one of them opened."""

    def __init__(self, state: AppState, labels: Labels, guard: Any, notice: Notice) -> None:
        self.state = state
        self.notice = notice
        self.folder = css(w.Text(layout=w.Layout(width="600px")), "mk-sink-folder")
        self.list_button = button("mk-sink-refresh")
        self.summary = css(w.HTML(), "mk-sink-summary")
        self.table = css(w.HTML(), "mk-sink-table")
        self.message = css(w.Dropdown(layout=w.Layout(width="700px")), "mk-sink-message")
        self.open_button = button("mk-sink-open")
        self.shown = css(w.HTML(), "mk-sink-view")
        self.activity = Activity(state, notice, "sink")
        self.items: list[Captured] = []
        labels.text(self.folder, N_("Sink folder"))
        labels.text(self.list_button, N_("List"))
        labels.text(self.message, N_("Message"))
        labels.text(self.open_button, N_("Open"))
        self.list_button.on_click(lambda _b: guard(self.read)())
        self.open_button.on_click(lambda _b: guard(self.open_message)())
        super().__init__(
            [
                w.HBox([self.folder, self.list_button]),
                self.activity,
                self.summary,
                self.table,
                w.HBox([self.message, self.open_button]),
                self.shown,
            ]
        )
        css(self, "mk-sink")

    def show_folder(self, folder: Path | None) -> None:
        """Use ``folder`` (the job's sink, or the app's) unless the user typed another."""
        if folder is not None and not self.folder.value:
            self.folder.value = str(folder)
        if self.folder.value:
            self.read()

    def read(self) -> None:
        """Read the folder's newest messages."""
        text = self.folder.value.strip()
        if not text:
            raise ConfigError(_("Type the sink's folder first."), setting="sink.folder")
        folder = Path(text).expanduser()

        def work(_progress: Progress, _cancel: Cancel) -> list[Captured]:
            return captured(folder)

        self.activity.start(_("Reading the sink's folder"), work, self._listed)

    def _listed(self, items: list[Captured]) -> None:
        self.items = items
        self.draw()

    def draw(self) -> None:
        """The list (masked in privacy mode) and the choice of a message to open."""
        private = self.state.privacy

        def shown(value: str) -> str:
            return mask_text(value) if private else value

        count = _("{n} message(s) captured").format(n=len(self.items))
        self.summary.value = f"<p>{escape(count)}</p>"
        rows = [
            [c.date, shown(c.mail_from), shown(", ".join(c.recipients)), shown(c.subject)]
            for c in self.items[:LISTED]
        ]
        headers = [_("Date"), _("From"), _("To (envelope)"), _("Subject")]
        self.table.value = table(headers, rows, cls="mk-sink-list", limit=10) if rows else ""
        options = [
            (f"{shown(', '.join(c.recipients))} — {shown(c.subject)}", c.id)
            for c in self.items[:LISTED]
        ]
        choose(self.message, options, self.message.value)

    def open_message(self) -> None:
        """Show the chosen message as its recipient received it."""
        if not self.message.value:
            raise ConfigError(_("Choose a captured message first."))
        view = open_captured(Path(self.folder.value.strip()).expanduser(), self.message.value)
        self.shown.value = _render(view, self.state.privacy)


def _render(view: MessageView, privacy: bool) -> str:
    rows = [[name, mask_text(value) if privacy else value] for name, value in view.headers]
    files = [[n, t, f"{format_number(s)} B"] for n, t, s, _p in view.attachments]
    body = message_frame(view.html, height=360) if view.html else text_block(view.text)
    parts = [table([_("Header"), _("Value")], rows, cls="mk-header-table"), body]
    if files:
        parts.append(table([_("File"), _("Type"), _("Size")], files, cls="mk-attachment-table"))
    return "".join(parts)
