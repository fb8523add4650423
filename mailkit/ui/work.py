"""Long work off the kernel's loop: a worker thread, a progress bar fed from traits, Cancel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as w

from ..i18n import N_, _, language
from .kit import Labels, Notice, button, css, guarded
from .state import AppState

__all__ = ["Activity", "Cancel", "Progress", "Work"]

T = TypeVar("T")
Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
Work = Callable[[Progress, Cancel], T]

_POLL = 0.1  # seconds between progress updates: smooth enough, cheap for the kernel


class Activity(w.HBox):
    """A progress bar, a status line and a Cancel button for one kind of background work.

    ``start(work, done)`` runs ``work(progress, cancel)`` in a thread (so the kernel keeps
    answering), shows its progress, and calls ``done(result)`` on the loop. Starting again
    cancels the previous run; its result is dropped. Outside a running event loop (plain
    Python, tests) the work runs to the end at once.
    """

    def __init__(self, state: AppState, notice: Notice, name: str) -> None:
        self.state = state
        self.notice = notice
        self.labels = Labels()
        self.bar = css(w.IntProgress(value=0, min=0, max=1), "mk-progress")
        self.status = css(w.HTML(), "mk-activity-status")
        self.cancel_button = button("mk-cancel")
        self.cancel_button.disabled = True
        self.labels.text(self.cancel_button, N_("Cancel"))
        self.cancel_button.on_click(lambda _b: self.cancel())
        super().__init__([self.bar, self.status, self.cancel_button])
        css(self, "mk-activity", f"mk-activity-{name}")
        self.layout.display = "none"
        self.task: asyncio.Future[Any] | None = None
        self._stop: threading.Event | None = None
        self._counts = [0, 0]
        self._partial = False
        state.observe(self._relabel, names="language")

    def _relabel(self, _change: Any) -> None:
        with language(self.state.language):
            self.labels.apply()

    @property
    def running(self) -> bool:
        """True while work is under way."""
        return self.task is not None and not self.task.done()

    def cancel(self) -> None:
        """Ask the running work to stop at its next check."""
        if self._stop is not None:
            self._stop.set()
        self.cancel_button.disabled = True

    def start(
        self, what: str, work: Work[T], done: Callable[[T], None], *, partial: bool = False
    ) -> None:
        """Run ``work`` in the background, showing ``what`` (already translated); ``done``
        gets its result, also after Cancel when ``partial`` (the work returns what it has)."""
        self.cancel()
        stop = self._stop = threading.Event()
        self._partial = partial
        self._counts = [0, 0]
        self._show(what, running=True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        finish = guarded(self.state, self.notice)(self._finish)
        if loop is None:
            finish(stop, what, done, lambda: work(self._progress, stop.is_set))
            return
        self.task = asyncio.ensure_future(self._run(stop, what, work, done, finish))

    async def _run(
        self, stop: threading.Event, what: str, work: Work[T], done: Any, finish: Any
    ) -> None:
        # to_thread copies the context, so the worker speaks the app's language.
        with language(self.state.language):
            future = asyncio.ensure_future(asyncio.to_thread(work, self._progress, stop.is_set))
        while not future.done():
            await asyncio.wait({future}, timeout=_POLL)
            if stop is self._stop:
                self._show_counts()
        finish(stop, what, done, future.result)

    def _finish(self, stop: threading.Event, what: str, done: Any, result: Any) -> None:
        try:
            value = result()
        finally:
            if stop is self._stop:  # a newer run owns the bar
                self._show(what, running=False)
        if stop is not self._stop:
            return
        if stop.is_set():
            self.notice.show(_("{what}: cancelled").format(what=what), "warning")
        if self._partial or not stop.is_set():
            done(value)

    def _progress(self, done: int, total: int) -> None:
        self._counts = [done, total]  # called from the worker: only plain values here

    def _show_counts(self) -> None:
        done, total = self._counts
        if total:
            self.bar.max = total
            self.bar.value = min(done, total)

    def _show(self, what: str, *, running: bool) -> None:
        self.layout.display = "flex" if running else "none"
        self.cancel_button.disabled = not running
        self.status.value = ""
        if running:
            self.bar.value = 0
            self.bar.bar_style = "info"
            self.status.value = _("{what}…").format(what=what)
