"""The async batch sender: N connections over the outbox, limits, pauses, retries, progress."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .batchjournal import Journal
from .batchlog import log_end, log_rate_wait, log_result, log_start
from .batchtypes import BatchOptions, BatchReport, Progress
from .errors import ConnectError, MailkitError, TransportError
from .formatting import format_decimal
from .i18n import _
from .mailerlog import event, log_scope
from .message import OutgoingMessage
from .outbox import Outbox, OutboxRow, RowState, new_owner, with_recipients
from .throttle import BatchPause, RateLimiter
from .transports.base import SendResult, SendStatus, Transport

__all__ = ["BatchOptions", "BatchReport", "BatchSender", "Progress", "TransportFactory"]

log = logging.getLogger(__name__)

TransportFactory = Callable[[], Transport]
HEARTBEAT_S = 15.0


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    row: OutboxRow = field(compare=False)
    attempts: int = field(default=0, compare=False)
    delivered: bool = field(default=False, compare=False)  # some recipients already have it
    refused: bool = field(default=False, compare=False)  # some were refused for good


class BatchSender:
    """Sends one journaled batch; ``await run()``, ``cancel()`` from a button, resume later.

    ``transports`` makes one Transport per connection. Nothing here knows SMTP: replies are
    classified by the transport (SendResult), which keeps this testable with any transport.
    """

    def __init__(
        self,
        outbox: Outbox,
        batch: str,
        transports: TransportFactory,
        options: BatchOptions | None = None,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.outbox, self.batch, self.transports = outbox, batch, transports
        self.options = options or BatchOptions()
        self.progress = progress
        self.owner = new_owner()
        self.journal = Journal(outbox, batch, self.owner)
        self.pause = BatchPause(self.options.backoff, self.options.backoff_max)
        self.limiter = RateLimiter(self.options.limits)
        self._buffer: deque[_Item] = deque()
        self._retries: list[_Item] = []
        self._last_seq = -1
        keys = self.options.keys
        self._keys = None if keys is None else frozenset(keys)  # the same set for every refill
        self._exhausted = False
        self._inflight = 0
        self._changed = asyncio.Event()
        self._fetch = asyncio.Lock()
        self._claimed = 0
        self._connect_failures = 0
        self._opened_once = False
        self._limit_reached = False
        self._first_open = asyncio.Lock()
        self._stop_reason = ""
        self._stop_error: MailkitError | None = None
        self._cancelled = False
        self._counts: dict[RowState, int] = {}
        self._sent_now = 0
        self._started = time.monotonic()
        self._last_progress = 0.0

    # -- control ---------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop after the messages in flight; nothing new is claimed (call on the loop's thread)."""
        self._cancelled = True
        self._stop_reason = self._stop_reason or _("cancelled by the user")
        self._changed.set()

    @property
    def stopping(self) -> bool:
        """True once the run is winding down."""
        return self._cancelled or self._stop_error is not None

    def _stop(self, err: MailkitError) -> None:
        if self._stop_error is None:
            self._stop_error = err
            self._stop_reason = err.message
            log.warning("batch %s stopped: %s", self.batch, err.message)
            event("stop", err.message, level="error", code=getattr(err, "code", None))
        self._changed.set()

    # -- the run ----------------------------------------------------------------------------

    async def run(self) -> BatchReport:
        """Send every due row once; returns the report (never raises for a row's failure)."""
        with log_scope(fill=True, batch=self.batch, account=self.options.account):
            report = await self._run()
        return report

    async def _run(self) -> BatchReport:
        recovered = await asyncio.to_thread(self.outbox.acquire, self.batch, self.owner)
        self.journal.start()
        beat = asyncio.get_running_loop().create_task(self._heartbeat())
        try:
            await self._prepare()
            workers = [self._worker() for _n in range(self.options.workers)]
            await asyncio.gather(*workers)
            await self.journal.flush()
        except MailkitError as err:
            self._stop(err)
        finally:
            beat.cancel()
            try:
                await self.journal.stop()
            except MailkitError as err:  # what was not committed is 'unknown' at the next start
                self._stop(err)
            await asyncio.to_thread(self.outbox.release_owner, self.batch, self.owner)
        counts = await asyncio.to_thread(self.outbox.counts, self.batch, self.options.keys)
        self._counts = counts
        self._report_progress(force=True)
        log_end(counts, self.stopping, self._sent_now, time.monotonic() - self._started)
        return BatchReport(
            self.batch,
            counts,
            self.stopping,
            self._stop_reason,
            self._stop_error,
            recovered,
            self._sent_now,
            time.monotonic() - self._started,
        )

    async def _prepare(self) -> None:
        o = self.options
        await self.journal.call(self.outbox.purge, o.retention_days)
        if o.account and (o.limits.per_minute or o.limits.per_hour or o.limits.per_day):
            history = await self.journal.call(
                self.outbox.sent_since, o.account, time.time() - 86400
            )
            self.limiter = RateLimiter(o.limits, history)
        self._counts = await self.journal.call(self.outbox.counts, self.batch, o.keys)
        self._report_progress(force=True)
        log_start(self._counts, o.workers)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self.journal.call(self.outbox.heartbeat, self.batch, self.owner)

    async def _worker(self) -> None:
        transport = self.transports()
        upcoming: asyncio.Task[_Item | None] | None = None
        try:
            item = await self._claim_next(transport)
            while item is not None:
                # Claim the next row while this one is sent, so the journal's fsync overlaps the
                # SMTP round trips; a crash can then leave two rows per connection 'unknown'.
                upcoming = asyncio.ensure_future(self._claim_next(transport))
                await self._send_claimed(transport, item)
                item, upcoming = await upcoming, None
        except MailkitError as err:  # the journal failed: every connection stops
            self._stop(err)
        finally:
            if upcoming is not None:
                upcoming.cancel()
            try:
                await transport.close()
            except MailkitError as err:
                log.info("closing a connection failed: %s", err)

    # -- choosing the next row ---------------------------------------------------------------

    async def _take(self) -> _Item | None:
        while not self.stopping:
            limit = self.options.limit
            if limit is not None and self._claimed >= limit:
                return None
            now = time.monotonic()
            if self._retries and self._retries[0].due <= now:
                self._inflight += 1
                return heapq.heappop(self._retries)
            if self._buffer:
                self._inflight += 1
                return self._buffer.popleft()
            if not self._exhausted:
                await self._refill()
                continue
            if not self._retries and not self._inflight:
                return None
            self._changed.clear()
            wait = self._retries[0].due - now if self._retries else 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(wait, 0.001))
        return None

    async def _refill(self) -> None:
        async with self._fetch:
            if self._buffer or self._exhausted:
                return
            rows = await self.journal.call(
                self.outbox.due, self.batch, self._last_seq, 200, self._keys
            )
            if not rows:
                self._exhausted = True
                return
            self._last_seq = rows[-1].seq
            now = time.monotonic()
            self._buffer.extend(_Item(now, r.seq, r) for r in rows)  # attempts: this run's

    # -- one message -------------------------------------------------------------------------

    def _split(self, item: _Item) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Recipients for this transaction and for later ones (limits.recipients_per_message)."""
        cap = self.options.limits.recipients_per_message
        rcpts = item.row.message.recipients
        return (rcpts[:cap], rcpts[cap:]) if cap and len(rcpts) > cap else (rcpts, ())

    async def _claim_next(self, transport: Transport) -> _Item | None:
        """The next row, claimed ('sending' committed), or None when there is nothing to do."""
        while (item := await self._take()) is not None:
            wait = 0.0
            if self.limiter.windows:
                log_rate_wait(self.limiter.wait_time(len(self._split(item)[0])), self.options)
                wait = await self.limiter.acquire(
                    len(self._split(item)[0]), max_wait=self.options.max_wait
                )
            if wait:
                self._limit_reached = True  # rows claimed before this still fit: they go
                self._stop(TransportError(_limit_text(wait)))
            elif self.pause.remaining:
                await self.pause.wait()
            if self.stopping or not (self._opened_once or await self._open(transport)):
                self._put_back(item)
                return None if self.stopping else await self._claim_next(transport)
            if await self.journal.claim(item.row.key):
                self._claimed += 1
                return item
            self._finished(item)  # another sender has it, or it is no longer due
        return None

    async def _send_claimed(self, transport: Transport, item: _Item) -> None:
        if self.pause.remaining:
            await self.pause.wait()
        halted = self.stopping and not self._limit_reached
        if halted or not await self._open(transport):
            self._unclaim(item)
            return
        now_rcpts, later = self._split(item)
        try:
            result = await transport.send(with_recipients(item.row.message, now_rcpts))
        except TransportError as err:  # the destination failed as a whole: nothing was sent
            self._unclaim(item)
            self._destination_failed(err)
            return
        self._record(item, result, later)
        self._finished(item)

    def _put_back(self, item: _Item) -> None:
        self._buffer.appendleft(item)
        self._finished(item)

    def _unclaim(self, item: _Item) -> None:
        """Nothing was sent: the row goes back to the queue (journaled before any new claim)."""
        self.journal.record(item.row.key, item.row.state, None)
        self._claimed -= 1
        self._put_back(item)

    def _finished(self, item: _Item) -> None:
        self._inflight -= 1
        self._changed.set()

    async def _open(self, transport: Transport) -> bool:
        if not self._opened_once:  # the first login alone: a wrong password costs one attempt
            async with self._first_open:
                return not self.stopping and await self._open_now(transport)
        return await self._open_now(transport)

    async def _open_now(self, transport: Transport) -> bool:
        try:
            await transport.open()
        except TransportError as err:
            self._destination_failed(err)
            return False
        except MailkitError as err:
            self._stop(err)
            return False
        self._connect_failures = 0
        self._opened_once = True
        return True

    def _destination_failed(self, err: TransportError) -> None:
        """Connect failures pause everyone and are retried; TLS, login, send-as stop the run."""
        if type(err) is not ConnectError:
            self._stop(err)
            return
        self._connect_failures += 1
        if self._connect_failures >= self.options.max_attempts:
            self._stop(err)
            return
        delay = self.pause.trip()
        self._note(_("{reason}; trying again in {s} s").format(
            reason=err.message, s=format_decimal(delay)
        ))  # fmt: skip

    def _record(self, item: _Item, result: SendResult, later: tuple[str, ...]) -> None:
        status = result.status
        refused = item.refused or any(
            not r.accepted and (r.code or 0) >= 500 for r in result.recipients
        )
        if status in (SendStatus.SENT, SendStatus.PARTIAL):
            self.pause.ok()
            temporary = tuple(
                r.address for r in result.recipients if not r.accepted and (r.code or 0) < 500
            )
            pending = temporary + later
            if pending:  # e.g. 452 after some RCPTs: a new transaction for the others (RFC 5321)
                retry = replace(item, delivered=True, refused=refused, due=time.monotonic())
                self._retry(retry, with_recipients(item.row.message, pending), result, pending)
                return
            self._sent_now += 1
            self._set(item, RowState.PARTIAL if refused else RowState.SENT, result, True)
        elif status is SendStatus.FAILED:
            self._set(item, RowState.PARTIAL if item.delivered else RowState.FAILED, result)
        elif status is SendStatus.UNKNOWN:
            self._set(item, RowState.UNKNOWN, result, item.delivered)
        else:
            self._deferred(item, result)
        log_result(item.row.key, result)

    def _deferred(self, item: _Item, result: SendResult) -> None:
        attempts = item.attempts + 1
        delay = self.pause.trip() if result.pause else self._backoff(attempts)
        if result.pause:
            self._note(_("the server asks to slow down ({code} {reply}); pausing {s} s").format(
                code=result.code or "", reply=result.reply, s=format_decimal(delay)
            ))  # fmt: skip
        if attempts >= self.options.max_attempts:
            self._set(item, RowState.DEFERRED, result, item.delivered)
            return
        retry = replace(item, attempts=attempts, due=time.monotonic() + delay)
        pending = item.row.message.recipients if item.delivered else ()
        self._retry(retry, item.row.message, result, pending, delay)

    def _backoff(self, attempts: int) -> float:
        return float(min(self.options.backoff * 2 ** (attempts - 1), self.options.backoff_max))

    def _retry(
        self,
        item: _Item,
        message: OutgoingMessage,
        result: SendResult,
        pending: tuple[str, ...],
        delay: float = 0.0,
    ) -> None:
        row = replace(item.row, message=message, state=RowState.DEFERRED)
        self.journal.record(
            item.row.key,
            RowState.DEFERRED,
            result,
            pending=pending,
            next_try=time.time() + delay,
            delivered=item.delivered,
        )
        self._move(item.row.state, RowState.DEFERRED)
        heapq.heappush(self._retries, replace(item, row=row))
        self._changed.set()

    def _set(
        self, item: _Item, state: RowState, result: SendResult, delivered: bool = False
    ) -> None:
        # A row delivered to some recipients keeps the others as pending (for a resend).
        pending = item.row.message.recipients if item.delivered else ()
        self.journal.record(item.row.key, state, result, pending=pending, delivered=delivered)
        self._move(item.row.state, state)

    def _move(self, old: RowState, new: RowState) -> None:
        self._counts[old] = self._counts.get(old, 0) - 1
        self._counts[new] = self._counts.get(new, 0) + 1
        self._report_progress()

    # -- progress --------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        log.info("batch %s: %s", self.batch, text)
        event("pause", text, level="warning")
        self._report_progress(force=True, note=text)

    def _report_progress(self, *, force: bool = False, note: str = "") -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < 0.1:
            return
        self._last_progress = now
        elapsed = max(now - self._started, 1e-6)
        counts = {k: v for k, v in self._counts.items() if v}
        left = sum(counts.get(s, 0) for s in (RowState.QUEUED, RowState.DEFERRED))
        rate = self._sent_now / elapsed
        eta = left / rate if rate > 0 else None
        total = sum(counts.values())
        self.progress(
            Progress(counts, total, self._sent_now, rate, eta, self.pause.remaining, note)
        )


def _limit_text(wait: float) -> str:
    hours, rest = divmod(int(wait), 3600)
    return _(
        "the account's sending limit is reached; the remaining rows stay queued. Send them again "
        "in {h} h {m} min."
    ).format(h=hours, m=rest // 60)
