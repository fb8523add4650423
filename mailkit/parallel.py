"""Build a protected job's messages on every core: worker processes prepare the merge once, then
turn chunks of row keys into frozen messages, which come back in row order.

Making and encrypting a PDF costs ~30-40 ms of CPU per row (R=6 key derivation is slow on
purpose), so a 10,000-payslip batch is CPU-bound; rendering plain messages is not, and keeps the
single-process path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing as mp
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, NamedTuple

from . import merge as _merge  # merge imports this module; its names are read at call time
from .config import Secret
from .data import Record, Records
from .errors import AttachmentError, MailkitError
from .gc_pause import heap_frozen
from .i18n import _, get_language, set_language
from .job import Job
from .message import Draft, OutgoingMessage

__all__ = ["CHUNK", "MIN_ROWS", "parallel_messages", "usable_cpus", "watch_parent"]

CHUNK = 8  # rows per task: ~0.3 s of work, small enough to keep both workers busy to the end
MIN_ROWS = 100  # below this, starting the workers (~1 s) costs more than it saves
_AHEAD = 3  # tasks queued per worker: enough to never starve, few enough to bound memory

Result = tuple[str, Draft | None, OutgoingMessage | None, MailkitError | None]
_worker: dict[str, Any] = {}


def usable_cpus() -> int:
    """The CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _context() -> BaseContext:
    """forkserver where it exists: no fork of a threaded parent (a Jupyter kernel), and the
    heavy imports happen once in the server rather than in every worker."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["mailkit.merge"])
        return ctx
    return mp.get_context("spawn")


class _Setup(NamedTuple):
    """What a worker needs: the job, the parent's records (never re-read: the file may have
    changed since) and the passwords (plain text only on the pipe to our own workers)."""

    job: Job
    records: Records
    language: str
    manual: dict[str, str]
    generated: dict[str, str] | None
    signing: str | None
    parent: int  # the process that owns the pool: workers stop when it is gone

    def __repr__(self) -> str:  # the passwords never show, even in a debugger or a log
        return f"_Setup(job={self.job.name!r}, rows={len(self.records)}, passwords=********)"


def watch_parent(parent: int) -> None:
    """Exit when the pool's owner is gone (a killed kernel or CLI).

    A pool worker holds both ends of its task pipe, so it never sees the owner die and would
    wait for work for ever; the forkserver ends once its workers have.
    """
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent, 0)  # POSIX: signal 0 only asks whether the process exists
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the PID now belongs to another user's process
            os._exit(1)


def _start(setup: _Setup) -> None:
    """Worker initializer: prepare the merge once; an error is kept and raised by each task."""
    if os.name == "posix":  # on Windows os.kill would end the process, not ask about it
        threading.Thread(target=watch_parent, args=(setup.parent,), daemon=True).start()
    try:
        set_language(setup.language)
        signing = Secret(setup.signing) if setup.signing else None
        merge = _merge.prepare(setup.job, records=setup.records, signing_password=signing)
        if merge.plan is not None and merge.plan.passwords is not None:
            merge.plan.passwords.import_state(setup.manual, setup.generated)
        _worker["merge"] = merge
    except MailkitError as err:
        _worker["error"] = err


def _build(keys: Sequence[str]) -> list[Result]:
    """Worker task: render, attach, protect, verify, build and sign each row of ``keys``."""
    if "error" in _worker:
        raise _worker["error"]
    merge: _merge.Merge = _worker["merge"]
    out: list[Result] = []
    with heap_frozen():
        for key in keys:
            built = merge.build(merge.record(key))
            out.append((key, built.draft, built.message, built.error))
    return out


def _setup(merge: _merge.Merge) -> _Setup:
    """Everything resolved in this process, so a worker (whose environment is the one its server
    started with) makes exactly the same messages: font, language, passwords."""
    job, plan = merge.job, merge.plan
    manual: dict[str, str] = {}
    generated: dict[str, str] | None = None
    if plan is not None and plan.passwords is not None:
        manual, generated = plan.passwords.export_state()
    if plan is not None and plan.maker is not None and job.attachments is not None:
        font = dataclasses.replace(job.attachments, font=plan.maker.font)
        job = dataclasses.replace(job, attachments=font)
    signing = merge.signing_password.reveal() if merge.signing_password else None
    return _Setup(job, merge.records, get_language(), manual, generated, signing, os.getpid())


@contextlib.contextmanager
def _main_not_imported() -> Iterator[None]:
    """Start workers without running the caller's script again in each of them.

    multiprocessing imports a script's ``__main__`` in every new process so that objects made
    there can be unpickled; the workers need none (everything they get is mailkit's), and a
    script without ``if __name__ == "__main__":`` would start over in each worker, while one
    read from standard input cannot be found at all. Modules run with ``-m`` are left alone.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def parallel_messages(
    merge: _merge.Merge,
    rows: Sequence[Record],
    workers: int,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[_merge.Built]:
    """``Merge.messages`` on ``workers`` processes; results in row order, memory bounded."""
    keys = [r.key for r in rows]
    chunks = deque(keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK))
    pool = ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_start, initargs=(_setup(merge),)
    )
    pending: deque[Future[list[Result]]] = deque()
    done = 0
    try:
        with _main_not_imported():  # the first tasks start the workers
            while chunks and len(pending) < workers * _AHEAD:
                pending.append(pool.submit(_build, chunks.popleft()))
        while pending:
            results = pending.popleft().result()
            if chunks:
                pending.append(pool.submit(_build, chunks.popleft()))
            for key, draft, message, error in results:
                if cancel and cancel():
                    return
                yield _merge.Built(merge.record(key), draft, message, error)
                done += 1
                if progress:
                    progress(done, len(keys))
    except (BrokenProcessPool, BrokenPipeError, EOFError) as err:  # EOF: a worker never started
        raise AttachmentError(
            _(
                "a worker process building the messages stopped unexpectedly ({reason}): it "
                "ran out of memory or could not import mailkit. Nothing was sent by it; run "
                "the job again."
            ).format(reason=err or type(err).__name__)
        ) from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
