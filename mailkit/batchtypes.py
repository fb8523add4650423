"""The values a batch run takes and gives: options, progress, the final report."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import RateLimits
from .errors import MailkitError
from .outboxlog import RowState

__all__ = ["BatchOptions", "BatchReport", "Progress"]


@dataclass(frozen=True)
class BatchOptions:
    """How one run sends: connections, limits, retries; ``keys``/``limit`` narrow it."""

    connections: int = 4
    limits: RateLimits = field(default_factory=RateLimits)
    max_attempts: int = 5
    backoff: float = 2.0  # first pause in seconds; doubles per failure in a row
    backoff_max: float = 300.0
    max_wait: float = 900.0  # a rate-limit wait longer than this stops the run instead
    retention_days: float = 30.0
    account: str = ""  # whose limits apply (host + user); '' = none kept across runs
    keys: tuple[str, ...] | None = None
    limit: int | None = None  # send at most this many messages in this run

    @property
    def workers(self) -> int:
        """Connections actually opened: the run's and the account's limit, whichever is lower."""
        return max(1, min(self.connections, self.limits.connections))


@dataclass(frozen=True)
class Progress:
    """Counts per state, the rate so far and an estimate of the time left."""

    counts: dict[RowState, int]
    total: int
    sent_now: int
    rate: float  # messages per second in this run
    eta: float | None  # seconds, None while unknown
    paused: float = 0.0  # seconds left in a pause
    note: str = ""

    @property
    def done(self) -> int:
        """Rows in a final state (sent, partial, failed) or unknown."""
        finished = (RowState.SENT, RowState.PARTIAL, RowState.FAILED, RowState.UNKNOWN)
        return sum(self.counts.get(s, 0) for s in finished)


@dataclass(frozen=True)
class BatchReport:
    """How a run ended: counts per state and, when it stopped early, why."""

    batch: str
    counts: dict[RowState, int]
    stopped: bool
    reason: str = ""
    error: MailkitError | None = None
    recovered: int = 0  # rows found 'sending' after a crash, now 'unknown'
    sent_now: int = 0
    elapsed: float = 0.0

    @property
    def outcome(self) -> str:
        """'sent', 'failed' (some failed or partial), 'unknown' (ask the operator) or 'stopped'."""
        c = self.counts
        if self.stopped or any(c.get(s, 0) for s in (RowState.QUEUED, RowState.DEFERRED)):
            return "stopped"
        if c.get(RowState.UNKNOWN, 0):
            return "unknown"
        if c.get(RowState.FAILED, 0) or c.get(RowState.PARTIAL, 0):
            return "failed"
        return "sent"
