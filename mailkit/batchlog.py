"""A batch's entries in the mailer log: start, end, retries, failures and refused recipients."""

from __future__ import annotations

from .batchtypes import BatchOptions
from .formatting import format_decimal
from .i18n import _
from .mailerlog import event
from .outboxlog import RowState
from .transports.base import SendResult, SendStatus
from .transports.smtprules import enhanced_code

__all__ = ["log_end", "log_rate_wait", "log_result", "log_start"]


def _counts(counts: dict[RowState, int]) -> str:
    return ", ".join(f"{s.value} {n}" for s, n in counts.items() if n) or "-"


def log_start(counts: dict[RowState, int], connections: int) -> None:
    """The run begins: rows per state and connections."""
    event("batch-start", _counts(counts), details=f"connections={connections}")


def log_end(counts: dict[RowState, int], stopped: bool, sent_now: int, elapsed: float) -> None:
    """The run ended: rows per state, messages sent now, time taken."""
    level = "warning" if stopped else "info"
    event(
        "batch-end", _counts(counts), level=level, details=f"sent_now={sent_now}; {elapsed:.1f} s"
    )


def log_result(key: str, result: SendResult) -> None:
    """Failed, unknown and deferred messages and refused recipients, with the server's reply."""
    status = result.status
    if status in (SendStatus.FAILED, SendStatus.UNKNOWN, SendStatus.DEFERRED):
        name = "retry" if status is SendStatus.DEFERRED else status.value
        level = "warning" if status is SendStatus.DEFERRED else "error"
        text = f"{result.phase}: {result.code or ''} {result.reply}".strip()
        status_code = enhanced_code(result.reply)
        event(name, text, level=level, key=key, code=result.code, status=status_code)
    for r in result.recipients:
        if not r.accepted and status is not SendStatus.FAILED:
            text = f"{r.address}: {r.code or ''} {r.reply}"
            code = enhanced_code(r.reply)
            event("refused", text, level="warning", key=key, code=r.code, status=code)


def log_rate_wait(wait: float, options: BatchOptions) -> None:
    """The account's own limit makes the batch wait (longer waits stop the run instead)."""
    if 1.0 <= wait <= options.max_wait:
        text = _("the account's sending limit: waiting {s} s").format(s=format_decimal(wait))
        event("rate-wait", text, level="warning")
