"""What the app's Log tab and ``mailkit status/log/sync`` show: delivery per row, bounces with
reasons, replies, unmatched reports, account sync status, the mailer log; all exportable."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .accountsync import sync_states
from .bounces import reason_for, reason_text, status_in
from .correction import corrections
from .data import write_report
from .delivery import Delivery, Evidence, RowDelivery
from .mailerlog import LogEntry, MailerLog
from .outbox import Outbox
from .store import SettingsStore
from .syncing import SyncState

__all__ = [
    "account_sync_status",
    "bounced_rows",
    "delivery_rows",
    "export_rows",
    "mailer_log",
    "replies",
    "unmatched_reports",
    "with_delivery",
]


def _when(value: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value)) if value else ""


def with_delivery(
    outbox: Outbox, batch: str, rows: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``Outbox.report`` rows with delivery, its reason, who replied and corrections added."""
    found = Evidence(outbox.db).rows(batch)
    fixed = corrections(outbox, batch)
    out = []
    for row in rows:
        ev = found.get((batch, row["key"])) or RowDelivery(batch, row["key"])
        reason, delivery = ev.reason, ev.delivery.value
        refused = row.get("refused") or (row["reply"] if row["state"] == "failed" else "")
        if not delivery and refused:  # refused at once by the server (SMTP 5xx)
            delivery, reason = "bounced", reason_for(status_in(refused), refused)
        out.append({
            **row,
            "batch": batch,
            "delivery": delivery,
            "delivery_status": ev.status,
            "reason": reason_text(reason) if reason else "",
            "diagnostic": ev.diagnostic,
            "replied": ", ".join(ev.replies),
            "auto_replied": ", ".join(ev.auto_replies),
            "reported_at": _when(ev.at),
            "corrected_by": ", ".join(fixed.get(row["key"], [])),
        })  # fmt: skip
    return out


def delivery_rows(
    batch: str | None = None,
    *,
    outbox: str | Path | None = None,
    delivery: str | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    """Every row (of ``batch``, or of all batches) with its sending state and delivery.

    ``delivery`` filters on 'delivered', 'delayed', 'bounced' or '' (nothing came back);
    ``state`` on the sending state ('sent', 'failed', ...).
    """
    with Outbox(outbox) as box:
        batches = [batch] if batch is not None else [b for b, _job, _at in box.batches()]
        rows = [r for b in batches for r in with_delivery(box, b, box.report(b))]
    if delivery is not None:
        rows = [r for r in rows if r["delivery"] == Delivery(delivery).value]
    if state is not None:
        rows = [r for r in rows if r["state"] == state]
    return rows


def bounced_rows(
    batch: str | None = None, *, outbox: str | Path | None = None
) -> list[dict[str, Any]]:
    """Rows that did not arrive, with the reason (e.g. "user unknown": a wrong e-mail in the data)
    and the rows that corrected them."""
    return delivery_rows(batch, outbox=outbox, delivery="bounced")


def replies(
    batch: str | None = None, *, outbox: str | Path | None = None, auto: bool = True
) -> list[dict[str, Any]]:
    """Answers matched to rows, newest first: who, when, subject; auto-replies too unless told."""
    kinds = ["reply", "auto-reply"] if auto else ["reply"]
    with Outbox(outbox) as box:
        found = Evidence(box.db).entries(batch=batch, matched=True, kinds=kinds)
    return [_evidence_row(e) for e in found]


def unmatched_reports(
    *, outbox: str | Path | None = None, account: str | None = None
) -> list[dict[str, Any]]:
    """Reports that could not be tied to a sent message, with why; never dropped silently."""
    with Outbox(outbox) as box:
        found = Evidence(box.db).entries(matched=False)
    return [_evidence_row(e) for e in found if account is None or e["account"] == account]


def _evidence_row(e: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": e["kind"], "outcome": e["outcome"],
        "batch": e["batch"] or "", "key": e["key"] or "",
        "recipient": e["recipient"], "from": e["sender"], "subject": e["subject"],
        "date": _when(e["at"]), "status": e["status"],
        "reason": reason_text(e["reason"]) if e["reason"] else "", "diagnostic": e["diagnostic"],
        "account": e["account"], "folder": e["folder"], "uid": e["uid"],
        "matched_by": e["matched_by"], "note": e["note"],
    }  # fmt: skip


def account_sync_status(
    *, outbox: str | Path | None = None, store: SettingsStore | None = None
) -> list[dict[str, Any]]:
    """The seed's account synchronisation status: on/off, last sync, messages seen, last error."""
    return [_sync_row(s) for s in sync_states(outbox=outbox, store=store)]


def _sync_row(s: SyncState) -> dict[str, Any]:
    return {
        "account": s.account, "enabled": s.enabled, "folder": s.folder,
        "last_sync": _when(s.last_sync), "last_ok": _when(s.last_ok),
        "seen_last": s.seen_last, "seen_total": s.seen_total, "found_last": s.found_last,
        "last_error": s.last_error,
    }  # fmt: skip


def mailer_log(
    *,
    batch: str | None = None,
    account: str | None = None,
    since: float | None = None,
    level: str = "debug",
    limit: int | None = None,
    folder: str | Path | None = None,
) -> list[LogEntry]:
    """Mailer log entries matching the filters, oldest first (``limit`` keeps the newest)."""
    return MailerLog(folder).query(
        batch=batch, account=account, since=since, level=level, limit=limit
    )


def export_rows(rows: Iterable[Mapping[str, Any] | LogEntry], path: str | Path) -> Path:
    """Write rows or log entries to .csv or .xlsx; formulas are neutralised."""
    flat = [r.as_row() if isinstance(r, LogEntry) else dict(r) for r in rows]
    return write_report(flat, path)
