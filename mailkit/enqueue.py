"""Preflight and journal a batch in one pass: every message rendered once, frozen, then released."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .addresses import MailAddress
from .config import DsnOptions
from .job import Job
from .merge import Built, Merge
from .message import Draft, OutgoingMessage, freeze
from .outbox import Outbox
from .preflight import PreflightReport, preflight
from .transports.base import Capabilities

__all__ = ["Enqueued", "Share", "batch_id", "enqueue", "in_share", "redirected"]

GROUP = 500  # rows per journal commit while enqueueing

Share = tuple[int, int]  # (part, parts): the rows whose position % parts == part

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class Enqueued:
    """What enqueueing did: the preflight report, rows added, rows already journaled."""

    batch: str
    report: PreflightReport
    added: int
    kept: int

    @property
    def ok(self) -> bool:
        """True when preflight passed and the rows are released for sending."""
        return self.report.ok


def batch_id(job: Job, *, override: str = "", redirect: str = "") -> str:
    """The journal's name for this batch: explicit, else [batch] id, else the job's name.

    A redirected run ("send everything to a test address") is a batch of its own, so it never
    marks a real row as sent.
    """
    base = override or job.batch.id or job.name
    return f"{base} [test: {redirect}]" if redirect else base


def redirected(
    draft: Draft, to: MailAddress, seal: Callable[[Draft], OutgoingMessage] = freeze
) -> OutgoingMessage:
    """``draft`` addressed to ``to`` only; headers name the real recipients, subject says TEST.

    ``seal`` makes the bytes: pass ``merge.freeze`` so a signing job's test is signed too.
    """
    original = [("X-Mailkit-Original-To", ", ".join(str(a) for a in draft.to))]
    if draft.cc:
        original.append(("X-Mailkit-Original-Cc", ", ".join(str(a) for a in draft.cc)))
    if draft.bcc:
        original.append(("X-Mailkit-Original-Bcc", ", ".join(str(a) for a in draft.bcc)))
    test = dataclasses.replace(
        draft,
        to=(to,),
        cc=(),
        bcc=(),
        subject=f"[TEST] {draft.subject}",
        headers=(*draft.headers, *original),
    )
    return seal(test)


class _Stager:
    """Receives preflight's good messages and journals them as ``staged``, GROUP per commit."""

    def __init__(
        self,
        outbox: Outbox,
        batch: str,
        order: dict[str, int],
        transform: Callable[[Built], OutgoingMessage],
        account: str,
    ) -> None:
        self.outbox, self.batch, self.order = outbox, batch, order
        self.transform = transform
        self.account = account
        self.pending: list[tuple[int, OutgoingMessage, str]] = []

    def __call__(self, built: Built) -> None:
        assert built.draft is not None
        self.pending.append(
            (self.order[built.record.key], self.transform(built), built.draft.subject)
        )
        if len(self.pending) >= GROUP:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.outbox.stage(self.batch, self.pending, self.account)
            self.pending = []


def _transform(
    redirect: MailAddress | None, copy_to: str, seal: Callable[[Draft], OutgoingMessage]
) -> Callable[[Built], OutgoingMessage]:
    def apply(built: Built) -> OutgoingMessage:
        assert built.draft is not None
        assert built.message is not None
        if redirect is not None:
            return redirected(built.draft, redirect, seal)
        message = built.message
        if copy_to and copy_to not in message.recipients:  # "copy to me" by Bcc: envelope only
            message = dataclasses.replace(message, recipients=(*message.recipients, copy_to))
        return message

    return apply


def enqueue(
    merge: Merge,
    outbox: Outbox,
    batch: str,
    *,
    keys: Sequence[str] | None = None,
    capabilities: Capabilities | None = None,
    dsn: DsnOptions | None = None,
    redirect: MailAddress | None = None,
    copy_bcc: bool = False,
    account: str = "",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    share: Share | None = None,
    finish: bool = True,
) -> Enqueued:
    """Preflight the rows not yet journaled and stage them; release them only if all passed.

    Rows already in the journal are neither rendered nor changed (their Message-ID and bytes
    were frozen when first enqueued), so enqueueing the same batch twice adds nothing. When
    preflight finds a blocking problem, what it staged is discarded: the fixed job is
    rendered anew next time. ``share`` stages only one process's part of the rows and
    ``finish=False`` leaves releasing or discarding to the caller (mailkit.parallel_enqueue).
    """
    outbox.ensure_batch(batch, merge.job.name)
    wanted = list(dict.fromkeys(keys)) if keys is not None else merge.keys()
    present = outbox.keys(batch)
    order = {k: i for i, k in enumerate(merge.keys())}
    mine = wanted if share is None else [k for k in wanted if in_share(order.get(k, 0), share)]
    todo = [k for k in mine if k not in present]
    whole = keys is None and not present and share is None
    part = merge if whole else merge.subset(todo)
    copy_to = merge.identity.sender.envelope() if copy_bcc else ""
    stager = _Stager(outbox, batch, order, _transform(redirect, copy_to, merge.freeze), account)
    report = preflight(
        part,
        capabilities=capabilities,
        dsn=dsn,
        on_message=stager,
        progress=progress,
        cancel=cancel,
    )
    stager.flush()
    kept = len(mine) - len(todo)
    if not finish:
        return Enqueued(batch, report, 0, kept)
    if report.ok:
        added = outbox.release(batch)
    else:
        outbox.discard_staged(batch)
        added = 0
    return Enqueued(batch, report, added, kept)


def in_share(seq: int, share: Share | None) -> bool:
    """True when the row at ``seq`` belongs to ``share`` (every row when there is none)."""
    return share is None or seq % share[1] == share[0]
