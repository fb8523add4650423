"""The Log tab: each row's outbox state with filters, export, resend 'unknown', the sink."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any, ClassVar

import ipywidgets as w

from ..enqueue import batch_id
from ..errors import ConfigError
from ..i18n import N_, _
from ..labels import delivery_label
from ..outboxlog import RowState
from ..privacy import mask_text
from ..sendview import STATE_NAMES, destination_text, outbox_path, resend_request
from ..sentlog import batch_log, batch_names, export_log, filter_log, sink_folder
from .dispatch import Dispatch
from .kit import Panel, button, choose, css
from .sink_view import SinkView
from .state import AppState
from .work import Activity, Cancel, Progress

__all__ = ["LogTab"]

SHOWN_ROWS = 300
# (column title msgid, row key, masked in privacy mode); more per-row facts join here.
COLUMNS = (
    (N_("Row"), "key", False),
    (N_("State"), "state", False),
    (N_("Delivery"), "delivery", False),
    (N_("Reason"), "reason", True),
    (N_("Recipients"), "recipients", True),
    (N_("Subject"), "subject", True),
    (N_("Attempts"), "attempts", False),
    (N_("Sent at"), "sent_at", False),
    (N_("Server reply"), "reply", True),
    (N_("Refused"), "refused", True),
)
FORMATS = ((N_("CSV"), "csv"), (N_("XLSX"), "xlsx"))


class LogTab(Panel):
    """The journal of a batch, row by row; what the local sink captured."""

    title: ClassVar[str] = N_("Log")
    css_name: ClassVar[str] = "mk-log"

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.rows: list[dict[str, Any]] = []
        self.batch = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-log-batch")
        self.refresh_button = button("mk-log-refresh")
        self.counts = css(w.HTML(), "mk-log-counts")
        self.state_filter = css(w.Dropdown(layout=w.Layout(width="380px")), "mk-log-state")
        self.search = css(
            w.Text(continuous_update=False, layout=w.Layout(width="380px")), "mk-log-search"
        )
        self.table = css(w.HTML(), "mk-log-table")
        self.format = css(w.ToggleButtons(style={"button_width": "5em"}), "mk-log-format")
        self.export_button = button("mk-log-export")
        self.download = css(w.HTML(), "mk-log-download")
        self.resend_button = button("mk-log-resend")
        self.activity = Activity(state, self.notice, "log")
        self.activities.append(self.activity)
        self.dispatch = Dispatch(state, self.notice, self.labels, "resend")
        self.sink = SinkView(state, self.labels, self.guard, self.notice)
        self.activities.append(self.sink.activity)
        self._label()
        self._wire()

    def _label(self) -> None:
        lab = self.labels
        lab.text(self.batch, N_("Batch"))
        lab.text(self.refresh_button, N_("Refresh"))
        lab.text(self.state_filter, N_("State"))
        lab.text(self.search, N_("Search"))
        lab.text(self.search, N_("row, recipient or subject"), "placeholder")
        lab.options(self.format, FORMATS)
        lab.text(self.export_button, N_("Export"))
        lab.text(self.resend_button, N_("Send 'unknown' rows again…"))
        self.children = [
            w.HBox([self.batch, self.refresh_button]),
            self.activity,
            self.counts,
            w.HBox([self.state_filter, self.search]),
            self.table,
            w.HBox([self.format, self.export_button, self.resend_button]),
            self.download,
            self.notice,
            self.dispatch,
            lab.heading(N_("Captured by the local sink")),
            self.sink,
        ]

    def _wire(self) -> None:
        self.on_change(self.batch, lambda _v: self.load())
        self.on_click(self.refresh_button, self.reload)
        self.on_change(self.state_filter, lambda _v: self.draw())
        self.on_change(self.search, lambda _v: self.draw())
        self.on_click(self.export_button, self.export)
        self.on_click(self.resend_button, self.resend_unknown)
        self.watch(["merge", "journal"], self.reload)
        self.watch("privacy", self.draw)

    def _path(self) -> Path | None:
        merge = self.state.merge
        return outbox_path(merge.job) if merge is not None else None

    def reload(self) -> None:
        """List the batches again (the current job's first) and load the chosen one."""
        path, merge = self._path(), self.state.merge
        if path is None or merge is None:
            return
        own = batch_id(merge.job)
        names = batch_names(path)
        ordered = [own, *(n for n in names if n != own)]
        keep = self.batch.value if self.batch.value in ordered else own
        with self.quietly():
            choose(self.batch, ordered, keep)
        self.load()
        self.sink.show_folder(sink_folder(merge.job))

    def load(self) -> None:
        """Read the chosen batch's rows from the journal (in a worker thread)."""
        path, batch = self._path(), self.batch.value
        if path is None or not batch:
            return

        def work(_progress: Progress, _cancel: Cancel) -> list[dict[str, Any]]:
            return batch_log(path, batch)

        self.activity.start(_("Reading the journal"), work, self._loaded)

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        states = sorted({r["state"] for r in rows}, key=lambda s: list(RowState).index(RowState(s)))
        options = [(_("All states"), ""), *((_(STATE_NAMES[RowState(s)]), s) for s in states)]
        with self.quietly():
            choose(self.state_filter, options, self.state_filter.value)
        self.draw()

    def refresh(self) -> None:
        """Draw again in the current language."""
        self.draw()
        self.sink.draw()

    def shown_rows(self) -> list[Any]:
        """The rows that pass the filters."""
        return filter_log(self.rows, self.state_filter.value or "", self.search.value)

    def draw(self) -> None:
        """The counts line and the filtered table (masked in privacy mode)."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["state"]] = counts.get(row["state"], 0) + 1
        parts = [f"{_(STATE_NAMES[RowState(s)])}: {n}" for s, n in counts.items()]
        total = _("{n} row(s)").format(n=len(self.rows))
        self.counts.value = f"<p><b>{escape(total)}</b> — {escape(', '.join(parts))}</p>"
        self.resend_button.disabled = not counts.get(RowState.UNKNOWN.value)
        rows = self.shown_rows()
        if not rows:
            empty = _("Nothing in this batch yet.") if not self.rows else _("No row matches.")
            self.table.value = f'<p class="mk-empty">{escape(empty)}</p>'
            return
        self.table.value = _log_table(rows, self.state.privacy)

    def export(self) -> None:
        """Write the filtered rows as CSV or XLSX and offer them for download."""
        path = self._path()
        if path is None or not self.rows:
            raise ConfigError(_("There is nothing to export yet."))
        written = export_log(self.shown_rows(), path.parent / "reports", self.batch.value,
                             self.format.value)  # fmt: skip
        self.download.value = _download_link(written)
        self.notice.show(lambda: _("Exported to {path}").format(path=str(written)), "ok")

    def resend_unknown(self) -> None:
        """Send the batch's 'unknown' rows again with the same Message-ID, after confirming."""
        merge = self.state.merge
        if merge is None:
            raise ConfigError(_("Load the batch's job on the Data tab first."))
        keys = [r["key"] for r in self.rows if r["state"] == RowState.UNKNOWN.value]
        request = resend_request(merge.job, self.batch.value, keys)
        ask = _(
            "{n} row(s) of batch '{batch}' are in state 'unknown': they may already have "
            "arrived. Send them again through {where}, with the same Message-ID (a recipient "
            "may get a second copy)?"
        ).format(n=len(keys), where=destination_text(merge.job), batch=self.batch.value)
        self.dispatch.start(merge, request, ask=ask)


def _log_table(rows: list[Any], privacy: bool) -> str:
    head = "".join(f"<th>{escape(_(title))}</th>" for title, _k, _m in COLUMNS)
    body = []
    for row in rows[:SHOWN_ROWS]:
        cells = []
        for _title, key, masked in COLUMNS:
            value = row.get(key)
            text = "" if value is None else str(value)
            if key == "state":
                text = _(STATE_NAMES[RowState(text)])
                cells.append(
                    f'<td class="mk-state mk-state-{escape(row[key])}">{escape(text)}</td>'
                )
                continue
            if key == "delivery" and text:
                text = delivery_label(text)
            if key == "reply" and row.get("code"):
                text = f"{row['code']} {text}"
            cells.append(f"<td>{escape(mask_text(text) if privacy and masked else text)}</td>")
        body.append(f'<tr data-key="{escape(str(row["key"]))}">{"".join(cells)}</tr>')
    more = ""
    if len(rows) > SHOWN_ROWS:
        note = _("showing {shown} of {total} rows").format(shown=SHOWN_ROWS, total=len(rows))
        more = f'<p class="mk-more">{escape(note)}</p>'
    return (
        f'<table class="mk-table mk-log-rows"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}"
    )


def _download_link(path: Path) -> str:
    kinds = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument"
             ".spreadsheetml.sheet"}  # fmt: skip
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    label = escape(_("Download {name}").format(name=path.name))
    return (
        f'<a class="mk-download" download="{escape(path.name)}" '
        f'href="data:{kinds[path.suffix]};base64,{data}">{label}</a>'
    )
