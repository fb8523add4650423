"""Grouped journal commits for a running batch: many claims and results per SQLite transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .outbox import Outbox, RowState
from .transports.base import SendResult

__all__ = ["Journal"]

T = TypeVar("T")


class Journal:
    """Serialises every outbox call of a batch onto one worker thread, grouping writes.

    Claims wait for their commit (``sending`` must be durable before any socket I/O); results
    are queued and committed with the next group. While one commit runs, the next group fills,
    so twenty connections share one fsync instead of paying twenty.
    """

    def __init__(self, outbox: Outbox, batch: str, owner: str) -> None:
        self.outbox, self.batch, self.owner = outbox, batch, owner
        self._lock = asyncio.Lock()
        self._claims: list[tuple[str, asyncio.Future[bool]]] = []
        self._results: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.commits = 0

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an outbox method in the worker thread, never at the same time as another."""
        async with self._lock:
            return await asyncio.to_thread(fn, *args)

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="mailkit-journal")

    async def claim(self, key: str) -> bool:
        """Mark ``key`` as sending, durably; False when it is not this sender's to send."""
        self._raise()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._claims.append((key, future))
        self._kick()
        return await future

    def record(
        self,
        key: str,
        state: RowState,
        result: SendResult | None,
        *,
        pending: tuple[str, ...] = (),
        next_try: float = 0.0,
        delivered: bool = False,
    ) -> None:
        """Queue a row's new state; ``result=None`` gives back an unused claim."""
        self._results.append((self.batch, key, state, result, pending, next_try, delivered))
        self._kick()

    def _kick(self) -> None:
        self._idle.clear()
        self._wake.set()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    async def flush(self) -> None:
        """Wait until everything queued is committed; re-raise a journal failure."""
        if self._claims or self._results:
            self._kick()
        await self._idle.wait()
        self._raise()

    async def stop(self) -> None:
        """Commit what is queued, then end the writer task."""
        try:
            await self.flush()
        finally:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            claims, self._claims = self._claims, []
            results, self._results = self._results, []
            if claims or results:
                await self._commit(claims, results)
            if not self._claims and not self._results:
                self._idle.set()

    async def _commit(
        self, claims: list[tuple[str, asyncio.Future[bool]]], results: list[tuple[Any, ...]]
    ) -> None:
        started = time.monotonic()
        try:
            won = await self.call(
                self.outbox.apply, self.owner, [(self.batch, k) for k, _f in claims], results
            )
        except Exception as err:  # JournalError: stop the batch, fail every waiting claim
            self.error = err
            for _key, future in claims:
                if not future.done():
                    future.set_exception(err)
            return
        self.commits += 1
        self.last_commit_s = time.monotonic() - started
        for (_key, future), ok in zip(claims, won, strict=True):
            if not future.done():
                future.set_result(ok)
