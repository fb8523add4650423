"""The preflight bar: every new merge is checked in the background; the report goes to the state."""

from __future__ import annotations

from html import escape

import ipywidgets as w

from ..i18n import _, language
from ..preflight import PreflightReport, preflight
from .kit import Notice, css, guarded
from .state import AppState
from .work import Activity, Cancel, Progress

__all__ = ["PreflightBar"]


class PreflightBar(w.VBox):
    """Runs preflight on each merge the state gets (cancelling the previous run) and shows
    its summary; the tabs read the findings from ``state.report``."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.summary = css(w.HTML(), "mk-preflight-summary")
        self.notice = Notice()
        self.activity = Activity(state, self.notice, "preflight")
        super().__init__([self.summary, self.activity, self.notice])
        css(self, "mk-preflight")
        guard = guarded(state, self.notice)
        state.observe(lambda _c: guard(self.run)(), names="merge")
        state.observe(lambda _c: guard(self.refresh)(), names=["report", "language"])

    def run(self) -> None:
        """Check the current merge (nothing is sent)."""
        merge = self.state.merge
        self.notice.clear()
        if merge is None:
            self.activity.cancel()
            return

        def work(progress: Progress, cancel: Cancel) -> PreflightReport:
            return preflight(merge, progress=progress, cancel=cancel)

        def done(report: PreflightReport) -> None:
            if self.state.merge is merge:
                self.state.report = report

        self.activity.start(_("Checking every message"), work, done, partial=True)
        self.refresh()

    def refresh(self) -> None:
        """Show the report's summary line."""
        report = self.state.report
        with language(self.state.language):
            self.notice.relabel()
            if report is None:
                text = "" if self.state.merge is None else _("Checking every message")
                self.summary.value = f'<span class="mk-pending">{text}</span>' if text else ""
                return
            kind = "error" if report.errors else ("warning" if report.warnings else "ok")
            line = escape(report.summary())
            self.summary.value = f'<span class="mk-{kind}">{line}</span>'
