"""One send at a time from a button: confirmation, a progress bar with counts and ETA, Cancel,
Resume; the task on the kernel's loop only changes widget traits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w

from ..batchtypes import Progress
from ..errors import ConfigError
from ..i18n import N_, _, language
from ..merge import Merge
from ..outboxlog import RowState
from ..sending import ConfirmInfo, SendOutcome, SendRequest, SendRun
from ..sendview import outcome_text, progress_text
from .confirm import Confirm
from .kit import Labels, Notice, button, css, start
from .state import AppState

__all__ = ["Dispatch"]

TICK = 0.25  # seconds between redraws of the bar: smooth, and cheap for the kernel
JOURNAL_TICK = 5.0  # seconds between "the journal changed" signals while sending


class Dispatch(w.VBox):
    """``start(merge, request)`` runs a SendRun; a real server is confirmed on the page first
    (``ask`` confirms anything before it starts, e.g. a resend)."""

    def __init__(self, state: AppState, notice: Notice, labels: Labels, name: str) -> None:
        self.state = state
        self.notice = notice
        self.bar = css(
            w.IntProgress(value=0, min=0, max=1, layout=w.Layout(width="500px")),
            "mk-send-progress",
            f"mk-{name}-progress",
        )
        self.status = css(w.HTML(), "mk-send-status", f"mk-{name}-status")
        self.cancel_button = button("mk-send-cancel", f"mk-{name}-cancel")
        self.resume_button = button("mk-send-resume", f"mk-{name}-resume")
        labels.text(self.cancel_button, N_("Cancel"))
        labels.text(self.resume_button, N_("Resume"))
        self.cancel_button.disabled = self.resume_button.disabled = True
        self.confirm = Confirm(labels, name)
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.resume_button.on_click(lambda _b: self.resume())
        row = w.HBox([self.bar, self.cancel_button, self.resume_button])
        super().__init__([row, self.status, self.confirm])
        css(self, "mk-dispatch", f"mk-dispatch-{name}")
        self.layout.display = "none"  # shown from the first run on
        self.run: SendRun | None = None
        self.task: asyncio.Future[Any] | None = None
        self.outcome: SendOutcome | None = None
        self.done: Callable[[SendOutcome | None], None] | None = None
        self._again: tuple[Merge, SendRequest] | None = None
        self._progress: Progress | None = None
        self._checked = (0, 0)
        self._waiting = False  # a confirmation is asked: the status line says so

    @property
    def running(self) -> bool:
        """True while a send (or its question) is under way."""
        return self.task is not None and not self.task.done()

    def start(self, merge: Merge, request: SendRequest, *, ask: str = "") -> None:
        """Send ``request``'s rows of ``merge``; ConfigError while another send runs."""
        if self.running:
            raise ConfigError(_("a send is already running: wait for it or cancel it"))
        run = SendRun(
            merge.job,
            request,
            merge=merge,
            confirm=self._confirm,
            progress=self._on_progress,
            check_progress=self._on_checked,
        )
        self.run, self._again, self.outcome = run, (merge, request), None
        self._progress, self._checked = None, (0, 0)
        self.bar.value, self.bar.max, self.bar.bar_style = 0, 1, "info"
        self.status.value = ""
        self.layout.display = "flex"
        self.cancel_button.disabled, self.resume_button.disabled = False, True
        self.task = start(self.notice, self._go(run, ask), self._finished)

    def cancel(self) -> None:
        """Stop: messages in flight finish, the rest stays queued for Resume."""
        self.confirm.answer(False)
        if self.run is not None:
            self.run.cancel()
        self.cancel_button.disabled = True

    def resume(self) -> None:
        """Send what the last run left queued (nothing already sent goes twice)."""
        if self._again is not None:
            self.start(*self._again)

    async def _confirm(self, info: ConfirmInfo) -> bool:
        with language(self.state.language):
            text = _(
                "{due} message(s) of batch '{batch}' will be sent through {where}. This is a real "
                "mail server: the recipients get them. Send now?"
            ).format(due=info.due, batch=info.batch, where=info.where)
            if info.user:
                text += " " + _("(login: {user})").format(user=info.user)
            waiting = _("Waiting for your confirmation…")
        self._waiting = True
        self.status.value = f'<span class="mk-pending">{escape(waiting)}</span>'
        try:
            return await self.confirm.ask(text)
        finally:
            self._waiting = False

    async def _go(self, run: SendRun, ask: str) -> SendOutcome | None:
        try:
            if ask:
                if not await self.confirm.ask(ask):
                    return None
                run.confirm = _yes  # the question named the destination: not asked twice
            ticker = asyncio.ensure_future(self._tick())
            try:
                return await run.run()
            finally:
                ticker.cancel()
        finally:
            self.cancel_button.disabled = True
            self.resume_button.disabled = self._again is None
            self._draw()
            self.state.journal += 1

    def _finished(self, outcome: SendOutcome | None) -> None:
        self.outcome = outcome
        kind = outcome_text(outcome)[1]
        self.notice.show(lambda: outcome_text(outcome)[0], kind)
        report = outcome.report if outcome is not None else None
        if report is not None:
            self.bar.max = max(sum(report.counts.values()), 1)
            self.bar.value = self.bar.max - sum(
                report.counts.get(s, 0) for s in (RowState.QUEUED, RowState.DEFERRED)
            )
            self.bar.bar_style = {"ok": "success", "warning": "warning"}.get(kind, "danger")
        self.resume_button.disabled = report is None or report.outcome != "stopped"
        if self.done is not None:
            self.done(outcome)

    def _on_progress(self, progress: Progress) -> None:
        self._progress = progress  # on the loop, often: drawn by the ticker

    def _on_checked(self, done: int, total: int) -> None:
        self._checked = (done, total)  # from the enqueueing thread: plain values only

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            self._draw()
            if self._progress is not None and time.monotonic() - last > JOURNAL_TICK:
                last = time.monotonic()
                self.state.journal += 1

    def _draw(self) -> None:
        if self._waiting:
            return
        with language(self.state.language):
            p = self._progress
            if p is None:
                done, total = self._checked
                if total:
                    self.bar.max, self.bar.value = total, min(done, total)
                    text = _("Checking and journaling the messages: {done} of {total}").format(
                        done=done, total=total
                    )
                    self.status.value = f'<span class="mk-pending">{escape(text)}</span>'
                return
            self.bar.max = max(p.total, 1)
            self.bar.value = min(p.done, p.total)
            line = progress_text(p) + (f" — {p.note}" if p.note else "")
            self.status.value = f'<span class="mk-progress-text">{escape(line)}</span>'


def _yes(_info: ConfirmInfo) -> bool:
    return True
