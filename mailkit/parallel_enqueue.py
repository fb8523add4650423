"""Preflight and journal a large batch on every core: forked helpers stage their share of rows.

Rendering and building a light message is CPU work for one Python process, so a run of
thousands forks one helper per further core. Each process (this one included) preflights and
stages the rows whose position modulo the number of processes is its own; this process then
combines the reports and releases the rows only if every share passed, or discards them all.
Sending stays in this process: staged rows are never sent, so a helper that dies loses nothing.

Helpers are forked: they start at once with the prepared merge and the server's capabilities
already in memory, and nothing is read twice. fork is safe only in a process without other
Python threads (a Jupyter kernel has several), so there a run keeps to one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import multiprocessing as mp
import os
import signal
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .enqueue import Enqueued, Share, enqueue
from .errors import JournalError, MailkitError
from .i18n import _
from .merge import Merge
from .outbox import Outbox
from .parallel import usable_cpus, watch_parent
from .preflight import PreflightReport

__all__ = ["STAGE_MIN", "StageHelpers", "combined", "fork_safe", "helper_count", "may_fork"]

STAGE_MIN = 1000  # rows below which one process is quicker than forking helpers


def fork_safe() -> bool:
    """True where a helper may be forked: POSIX fork, and no other Python thread running."""
    return "fork" in mp.get_all_start_methods() and threading.active_count() == 1


def _wanted(asked: int | None) -> int:
    return usable_cpus() if asked is None else asked


def may_fork(asked: int | None) -> bool:
    """True when helpers could be used at all: more than one process asked for (or cores, by
    default) and fork is safe here; known before the table is read."""
    return _wanted(asked) > 1 and fork_safe()


def helper_count(asked: int | None, merge: Merge, rows: int) -> int:
    """How many processes stage this run: ``asked`` (None: one per core for a large batch)."""
    if not may_fork(asked) or (asked is None and rows < STAGE_MIN) or merge.heavy:
        return 1  # payslips and other generated files are built on worker processes already
    return max(1, min(_wanted(asked), rows))


def combined(reports: Sequence[PreflightReport]) -> PreflightReport:
    """One report from each process's: job-wide findings once, rows in file order."""
    first = reports[0]
    general = [f for f in first.findings if f.row is None]
    per_row = sorted((f for r in reports for f in r.findings if f.row is not None),
                     key=lambda f: f.line or 0)  # fmt: skip
    rows = sorted((s for r in reports for s in r.rows), key=lambda s: s.line)
    return PreflightReport(
        first.job,
        (*general, *per_row),
        tuple(rows),
        sum(r.total for r in reports),
        any(r.cancelled for r in reports),
    )


@dataclass
class _Plan:
    """What a helper inherits: the merge, the journal's path and how to stage."""

    merge: Merge
    outbox: Path
    batch: str
    stage: dict[str, Any]  # enqueue()'s keyword arguments, without progress and cancel
    parent: int


def _helper(conn: Connection, plan: _Plan, share: Share) -> None:
    """A helper process: stage its share on its own connection to the journal; report it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the run, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)  # the parent loop's signal pipe is not ours
    threading.Thread(target=watch_parent, args=(plan.parent,), daemon=True).start()
    cancelled = threading.Event()

    def listen() -> None:  # any word from the run, or its end, cancels
        with contextlib.suppress(EOFError, OSError):
            conn.recv()
        cancelled.set()

    threading.Thread(target=listen, daemon=True).start()
    try:
        with Outbox(plan.outbox) as outbox:
            staged = enqueue(
                plan.merge, outbox, plan.batch, **plan.stage, share=share, finish=False,
                progress=lambda done, total: conn.send(("check", done, total)),
                cancel=cancelled.is_set,
            )  # fmt: skip
        conn.send(("staged", staged))
    except MailkitError as err:
        conn.send(("error", err))
    except OSError:  # the run is gone: nothing left to report to
        pass


class _Helper:
    """The run's handle on one forked helper and the answer it sends back."""

    def __init__(self, plan: _Plan, share: Share, on_check: Callable[[int, int], None]) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_helper, args=(child, plan, share), daemon=True)
        with warnings.catch_warnings():  # Python 3.12+ warns of native threads (BLAS, Arrow)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        child.close()
        self.on_check = on_check
        self.answer: asyncio.Future[Enqueued] = asyncio.get_running_loop().create_future()
        context = contextvars.copy_context()  # the run's language, not the thread's default
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, args=(loop, context), daemon=True).start()

    def _read(self, loop: asyncio.AbstractEventLoop, context: contextvars.Context) -> None:
        """Read on a thread of its own (a blocking pipe), handle on the loop."""
        try:
            while True:
                message = self.conn.recv()
                loop.call_soon_threadsafe(self._dispatch, message, context=context)
        except (EOFError, OSError):  # the helper ended or died
            with contextlib.suppress(RuntimeError):  # RuntimeError: the loop has closed
                loop.call_soon_threadsafe(self._gone, context=context)

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "check":
            self.on_check(message[1], message[2])
        elif not self.answer.done():
            if kind == "staged":
                self.answer.set_result(message[1])
            else:
                self.answer.set_exception(message[1])

    def _gone(self) -> None:
        if not self.answer.done():
            self.process.join(1)
            self.answer.set_exception(JournalError(_(
                "a process checking this run stopped unexpectedly (exit code {code}); nothing "
                "was sent: run the job again"
            ).format(code=self.process.exitcode)))  # fmt: skip

    def cancel(self) -> None:
        with contextlib.suppress(OSError):  # it has ended already
            self.conn.send(("cancel",))

    def close(self) -> None:
        self.cancel()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class StageHelpers:
    """``await StageHelpers(...).enqueue()``: preflight and stage on ``count`` processes."""

    def __init__(
        self,
        count: int,
        merge: Merge,
        outbox: Outbox,
        *,
        batch: str,
        stage: dict[str, Any],
        check_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.count, self.merge, self.outbox, self.batch = count, merge, outbox, batch
        self.stage = stage
        self.check_progress = check_progress
        self.cancelled = False
        self._checked: dict[int, tuple[int, int]] = {}
        plan = _Plan(merge, outbox.path, batch, stage, os.getpid())
        self.helpers = [
            _Helper(plan, (lane, count), self._checking(lane)) for lane in range(1, count)
        ]

    def cancel(self) -> None:
        """Stop checking in every process; nothing is released."""
        self.cancelled = True
        for helper in self.helpers:
            helper.cancel()

    async def enqueue(self) -> Enqueued:
        """Preflight and stage every share at once; release the rows only if all passed."""
        try:
            own = await asyncio.to_thread(
                enqueue, self.merge, self.outbox, self.batch, **self.stage,
                share=(0, self.count), finish=False, progress=self._checking(0),
                cancel=lambda: self.cancelled,
            )  # fmt: skip
            staged = [own, *[await helper.answer for helper in self.helpers]]
        except BaseException:
            self.cancel()
            await asyncio.to_thread(self._close_and_discard)
            raise
        await asyncio.to_thread(self._close)
        report = combined([s.report for s in staged])
        if report.ok:
            added = await asyncio.to_thread(self.outbox.release, self.batch)
        else:
            added = 0
            await asyncio.to_thread(self.outbox.discard_staged, self.batch)
        return Enqueued(self.batch, report, added, sum(s.kept for s in staged))

    def _close(self) -> None:
        for helper in self.helpers:
            helper.close()

    def _close_and_discard(self) -> None:
        self._close()  # every helper has stopped writing before its rows are discarded
        self.outbox.discard_staged(self.batch)

    def _checking(self, lane: int) -> Callable[[int, int], None]:
        def note(done: int, total: int) -> None:
            self._checked[lane] = (done, total)
            if self.check_progress is not None:
                done_all = sum(d for d, _t in self._checked.values())
                self.check_progress(done_all, sum(t for _d, t in self._checked.values()))

        return note
