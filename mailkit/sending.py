"""Send a job: probe the destination, preflight and journal, confirm, send, copy; cancellable."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addresses import parse_address
from .batch import BatchOptions, BatchReport, BatchSender, Progress
from .config import ImapSettings
from .destinations import Passwords, Target, open_destination, with_account_batch
from .enqueue import Enqueued, batch_id, enqueue, redirected
from .errors import ConfigError, MailkitError
from .i18n import _
from .imap import AsyncImap
from .job import Job
from .merge import Merge, prepare
from .outbox import Outbox, RowState
from .parallel_enqueue import StageHelpers, helper_count, may_fork
from .sendspec import CopyMode
from .transports.base import SendResult

__all__ = ["ConfirmInfo", "SendOutcome", "SendRequest", "SendRun", "copy_to_sent", "send_test"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    """What to send in one run; the defaults send every row of the job's batch."""

    keys: tuple[str, ...] | None = None  # only these rows ("current", "selected")
    limit: int | None = None  # at most this many messages now
    redirect: str = ""  # send everything to this test address instead
    resend_unknown: bool = False  # put 'unknown' rows back in the queue (same ID and bytes)
    resend_failed: bool = False  # the same for 'failed' rows (after the cause was fixed)
    batch: str = ""  # another batch name (a new month, a new run)
    outbox: Path | None = None
    connections: int | None = None
    processes: int | None = None  # processes that check and journal; None: one per core
    # for a large batch (where fork is safe), 1: this process only


@dataclass(frozen=True)
class ConfirmInfo:
    """What the operator confirms before real mail leaves."""

    batch: str
    where: str
    user: str
    due: int  # rows queued or deferred
    unknown: int


@dataclass(frozen=True)
class SendOutcome:
    """The preflight/journal step and, if it went on, the sending step."""

    enqueued: Enqueued
    report: BatchReport | None
    confirmed: bool = True
    copies: int = 0
    copy_error: str = ""


Confirm = Callable[[ConfirmInfo], bool | Awaitable[bool]]


class SendRun:
    """One press of "send": ``outcome = await run.run()``; ``run.cancel()`` stops it cleanly.

    Real destinations (SMTP, IMAP Drafts) need ``confirm``: it sees what will be sent and
    returns True to go on. Without it, nothing is sent to a real server.
    """

    def __init__(
        self,
        job: Job,
        request: SendRequest | None = None,
        *,
        passwords: Passwords | None = None,
        confirm: Confirm | None = None,
        progress: Callable[[Progress], None] | None = None,
        check_progress: Callable[[int, int], None] | None = None,
        merge: Merge | None = None,
    ) -> None:
        self.job = job
        self.merge = merge  # already prepared (an uploaded table, typed passwords); else read
        self.request = request or SendRequest()
        self.passwords = passwords
        self.confirm = confirm
        self.progress = progress
        self.check_progress = check_progress
        self.sender: BatchSender | None = None
        self.helpers: StageHelpers | None = None
        self._cancelled = False
        self.batch = batch_id(job, override=self.request.batch, redirect=self.request.redirect)

    def cancel(self) -> None:
        """Stop: before sending nothing goes; while sending, the messages in flight finish."""
        self._cancelled = True
        if self.sender is not None:
            self.sender.cancel()
        if self.helpers is not None:
            self.helpers.cancel()

    def outbox(self) -> Outbox:
        """The journal this run uses."""
        return Outbox(self.request.outbox or self.job.batch.outbox)

    async def run(self) -> SendOutcome:
        """Run every step; MailkitError for what stops the whole run before sending."""
        self.job = with_account_batch(self.job)  # the saved account's limits and DSN
        outbox = self.outbox()
        try:
            async with open_destination(self.job, self.passwords) as target:
                enqueued = await self._enqueue_anywhere(outbox, target)
                if not enqueued.ok or self._cancelled:
                    return SendOutcome(enqueued, None)
                if not await self._confirmed(outbox, target):
                    return SendOutcome(enqueued, None, confirmed=False)
                report = await self._send(outbox, target)
                copies, error = await self._copies(outbox, target)
                return SendOutcome(enqueued, report, True, copies, error)
        finally:
            outbox.close()

    async def _enqueue_anywhere(self, outbox: Outbox, target: Target) -> Enqueued:
        """Preflight and journal: on forked helpers too for a large batch, else on a thread."""
        self.helpers = self._fork_helpers(outbox, target)
        if self.helpers is None:
            return await asyncio.to_thread(self._enqueue, outbox, target)
        try:
            staged = await self.helpers.enqueue()
        finally:
            self.helpers = None
        return await asyncio.to_thread(self._after_enqueue, outbox, target, staged)

    def _fork_helpers(self, outbox: Outbox, target: Target) -> StageHelpers | None:
        """Helpers for a large batch, forked now, while this process has one thread only."""
        asked = self.request.processes
        if not may_fork(asked):
            return None
        if self.merge is None:  # prepared here, so that the helpers inherit it
            self.merge = prepare(self.job)
        rows = len(self.request.keys) if self.request.keys else len(self.merge.records.records)
        count = helper_count(asked, self.merge, rows)
        if count <= 1:
            return None
        return StageHelpers(
            count, self.merge, outbox, batch=self.batch, stage=self._stage_args(target),
            check_progress=self.check_progress,
        )  # fmt: skip

    def _stage_args(self, target: Target) -> dict[str, Any]:
        """enqueue()'s keyword arguments for this run, but progress and cancel."""
        job, req = self.job, self.request
        redirect = parse_address(req.redirect) if req.redirect else None
        return {
            "keys": req.keys,
            "capabilities": target.capabilities,
            "dsn": job.batch.dsn,
            "redirect": redirect,
            "copy_bcc": job.batch.copy_to_me is CopyMode.BCC and redirect is None,
            "account": target.account,
        }

    def _enqueue(self, outbox: Outbox, target: Target) -> Enqueued:
        merge = self.merge if self.merge is not None else prepare(self.job)
        done = enqueue(
            merge,
            outbox,
            self.batch,
            **self._stage_args(target),
            progress=self.check_progress,
            cancel=lambda: self._cancelled,
        )
        return self._after_enqueue(outbox, target, done)

    def _after_enqueue(self, outbox: Outbox, target: Target, done: Enqueued) -> Enqueued:
        req = self.request
        if done.ok and req.resend_unknown:
            outbox.requeue(self.batch, RowState.UNKNOWN, req.keys)
        if done.ok and req.resend_failed:
            outbox.requeue(self.batch, RowState.FAILED, req.keys)
        if done.ok and self._imap_copies(target):
            outbox.want_copies(self.batch)
        return done

    def _imap_copies(self, target: Target) -> bool:
        return (
            self.job.batch.copy_to_me is CopyMode.IMAP
            and target.imap is not None
            and target.kind == "smtp"
            and not self.request.redirect
        )

    async def _confirmed(self, outbox: Outbox, target: Target) -> bool:
        if not target.real:
            return True
        if self.confirm is None:
            raise ConfigError(
                _(
                    "sending to {where} needs an explicit confirmation; nothing was sent "
                    "(command line: --yes)"
                ).format(where=target.where),
                setting="confirm",
            )
        counts = await asyncio.to_thread(outbox.counts, self.batch, self.request.keys)
        info = ConfirmInfo(
            self.batch,
            target.where,
            target.smtp.username if target.smtp else "",
            counts.get(RowState.QUEUED, 0) + counts.get(RowState.DEFERRED, 0),
            counts.get(RowState.UNKNOWN, 0),
        )
        answer = self.confirm(info)
        return bool(await answer) if inspect.isawaitable(answer) else bool(answer)

    async def _send(self, outbox: Outbox, target: Target) -> BatchReport:
        spec, req = self.job.batch, self.request
        options = BatchOptions(
            connections=req.connections or spec.connections,
            limits=spec.rate_limits,
            max_attempts=spec.max_attempts,
            retention_days=spec.retention_days,
            account=target.account,
            keys=req.keys,
            limit=req.limit,
        )
        self.sender = BatchSender(
            outbox, self.batch, target.new_transport, options, progress=self.progress
        )
        if self._cancelled:
            self.sender.cancel()
        return await self.sender.run()

    async def _copies(self, outbox: Outbox, target: Target) -> tuple[int, str]:
        if not self._imap_copies(target):
            return 0, ""
        assert target.imap is not None
        try:
            return await copy_to_sent(outbox, self.batch, target.imap), ""
        except MailkitError as err:
            log.warning("copies to the Sent folder failed: %s", err.message)
            return 0, err.message


async def copy_to_sent(outbox: Outbox, batch: str, imap: ImapSettings) -> int:
    """APPEND every sent row still waiting for its copy to the Sent folder; returns how many."""
    made = 0
    async with AsyncImap(imap) as client:
        folder = await client.special("sent")
        while rows := await asyncio.to_thread(outbox.copies_due, batch, 100):
            for key, data in rows:
                await client.append(folder, bytes(data), flags=("\\Seen",))
                await asyncio.to_thread(outbox.set_copy, batch, key, "done")
                made += 1
    return made


async def send_test(
    job: Job,
    *,
    to: str = "",
    key: str = "",
    passwords: Passwords | None = None,
    merge: Merge | None = None,
) -> SendResult:
    """ "Send a test to myself": one row (``key`` or the first) to ``to`` (default: the sender).

    Not journaled: the row stays due for the real batch. ``merge``: ``job`` already prepared.
    """
    merge = merge if merge is not None else prepare(job)
    record = merge.record(key) if key else merge.records.records[0]
    draft = await asyncio.to_thread(merge.draft, record)  # attachments may take a while
    address = parse_address(to) if to else merge.identity.sender
    message = await asyncio.to_thread(redirected, draft, address, merge.freeze)  # signed
    async with open_destination(with_account_batch(job), passwords, probe=False) as target:
        transport = target.new_transport()
        async with transport:
            return await transport.send(message)
