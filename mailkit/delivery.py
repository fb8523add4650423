"""Delivery evidence in the outbox: reports matched to rows and recipients; per-row states."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import JournalError
from .i18n import _
from .inbound import Inbound, Kind, Notice, Outcome

__all__ = ["Delivery", "Evidence", "Match", "RowDelivery", "transaction"]

SLACK = 86400.0  # a report may carry a Date a little before the message's sent_at (clocks)

_SCHEMA = """
CREATE INDEX IF NOT EXISTS messages_mid ON messages(message_id);
CREATE INDEX IF NOT EXISTS recipients_address ON recipients(lower(address));
CREATE TABLE IF NOT EXISTS evidence(
    report_id TEXT NOT NULL, recipient TEXT NOT NULL, account TEXT NOT NULL,
    kind TEXT NOT NULL, outcome TEXT NOT NULL, batch TEXT, key TEXT,
    status TEXT NOT NULL DEFAULT '', diagnostic TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '', sender TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '', at REAL, seen_at REAL NOT NULL,
    folder TEXT NOT NULL DEFAULT '', uid INTEGER NOT NULL DEFAULT 0,
    matched_by TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(report_id, recipient));
CREATE INDEX IF NOT EXISTS evidence_row ON evidence(batch, key);
CREATE TABLE IF NOT EXISTS sync_state(
    account TEXT PRIMARY KEY, enabled INTEGER NOT NULL DEFAULT 0, folder TEXT NOT NULL DEFAULT '',
    uidvalidity INTEGER, last_uid INTEGER NOT NULL DEFAULT 0, last_sync REAL, last_ok REAL,
    seen_total INTEGER NOT NULL DEFAULT 0, seen_last INTEGER NOT NULL DEFAULT 0,
    found_last INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS corrections(
    batch TEXT NOT NULL, key TEXT NOT NULL, original TEXT NOT NULL, created REAL NOT NULL,
    old_recipients TEXT NOT NULL, new_recipients TEXT NOT NULL, PRIMARY KEY(batch, key));
"""


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """One IMMEDIATE transaction on the outbox; sqlite errors become JournalError."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as err:
        raise JournalError(
            _("the outbox {path} cannot be written: {reason}").format(path=path, reason=err)
        ) from err


class Delivery(StrEnum):
    """A row's or recipient's delivery as the reports tell it ('' when nothing came back)."""

    NONE = ""
    DELAYED = "delayed"
    DELIVERED = "delivered"
    BOUNCED = "bounced"


_RANK = {Delivery.NONE: 0, Delivery.DELAYED: 1, Delivery.DELIVERED: 2, Delivery.BOUNCED: 3}
_FROM_OUTCOME = {
    Outcome.DELAYED: Delivery.DELAYED,
    Outcome.DELIVERED: Delivery.DELIVERED,
    Outcome.BOUNCED: Delivery.BOUNCED,
    Outcome.REPLIED: Delivery.DELIVERED,  # an answer proves the message arrived
    Outcome.AUTO_REPLIED: Delivery.DELIVERED,
}


@dataclass(frozen=True, slots=True)
class Match:
    """One stored piece of evidence: which row and recipient (None when unmatched) and why."""

    notice: Notice
    batch: str | None
    key: str | None
    recipient: str
    matched_by: str  # envid, message-id, recipient; '' when unmatched
    note: str = ""


@dataclass
class RowDelivery:
    """One row's evidence: the worst-news state, its reason, and who answered."""

    batch: str
    key: str
    delivery: Delivery = Delivery.NONE
    recipients: dict[str, Delivery] = field(default_factory=dict)
    status: str = ""
    reason: str = ""
    diagnostic: str = ""
    replies: list[str] = field(default_factory=list)  # addresses that answered (people)
    auto_replies: list[str] = field(default_factory=list)
    at: float | None = None  # the latest report


class Evidence:
    """Reads and writes the evidence tables inside an outbox's SQLite database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(_SCHEMA)

    # -- matching --------------------------------------------------------------------------

    def _row_by_id(self, message_id: str) -> tuple[str, str, list[str]] | None:
        found = self.db.execute(
            "SELECT batch, key, recipients FROM messages WHERE message_id=? LIMIT 1", (message_id,)
        ).fetchone()
        return (found[0], found[1], json.loads(found[2])) if found else None

    def known(self, message_ids: Iterable[str]) -> set[str]:
        """Which of these Message-IDs mailkit sent (a reply refers to one of them)."""
        ids = list(dict.fromkeys(message_ids))
        out: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT message_id FROM messages WHERE message_id IN ({marks})"  # noqa: S608
            out.update(m for (m,) in self.db.execute(sql, chunk))
        return out

    def match(self, report: Inbound) -> list[Match]:
        """Each notice of ``report`` tied to its row and recipient, or left unmatched with why."""
        for how, ids in (
            ("envid", [report.envid] if report.envid else []),
            ("message-id", report.refs),
        ):
            for message_id in ids:
                row = self._row_by_id(message_id)
                if row is not None:
                    return _on_row(report, row, how)
        if report.kind is Kind.REPLY:
            return []  # an answer to mail mailkit did not send: not a report
        return [self._by_recipient(report, n) for n in report.notices]

    def _by_recipient(self, report: Inbound, notice: Notice) -> Match:
        """Only a unique sent message to this address counts (a wrong match is worse than none)."""
        address = notice.original or notice.recipient
        if not address:
            return Match(notice, None, None, "", "", "the report names no message and no recipient")
        before = (report.date or time.time()) + SLACK
        rows = self.db.execute(
            "SELECT DISTINCT r.batch, r.key FROM recipients r JOIN messages m USING(batch, key) "
            "WHERE lower(r.address)=? AND r.accepted=1 AND m.sent_at<=?",
            (address.casefold(), before),
        ).fetchall()
        if len(rows) == 1:
            return Match(notice, rows[0][0], rows[0][1], address, "recipient")
        note = (
            f"{len(rows)} sent messages went to {address}" if rows else f"nothing went to {address}"
        )
        return Match(notice, None, None, address, "", note)

    # -- recording ---------------------------------------------------------------------------

    def record(self, account: str, folder: str, uid: int, report: Inbound) -> list[Match]:
        """Store ``report``'s evidence once (a report seen again changes nothing)."""
        matches = self.match(report)
        now = time.time()
        self.db.executemany(
            "INSERT OR IGNORE INTO evidence VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (report.report_id, m.recipient, account, report.kind.value, m.notice.outcome.value,
                 m.batch, m.key, m.notice.status, m.notice.diagnostic, m.notice.reason,
                 report.sender, report.subject[:300], report.date, now, folder, uid,
                 m.matched_by, m.note)
                for m in matches
            ],
        )  # fmt: skip
        return matches

    # -- reading ---------------------------------------------------------------------------

    def rows(self, batch: str | None = None) -> dict[tuple[str, str], RowDelivery]:
        """Every row with evidence (of ``batch``, or all), keyed by (batch, key)."""
        sql = (
            "SELECT batch, key, recipient, outcome, status, reason, diagnostic, at FROM evidence "
            "WHERE batch IS NOT NULL"
        )
        args: list[Any] = []
        if batch is not None:
            sql += " AND batch=?"
            args.append(batch)
        out: dict[tuple[str, str], RowDelivery] = {}
        for b, k, rcpt, outcome, status, reason, diag, at in self.db.execute(
            sql + " ORDER BY at", args
        ):
            row = out.setdefault((b, k), RowDelivery(b, k))
            _apply(row, (rcpt, outcome, status, reason, diag, at))
        return out

    def entries(
        self, *, batch: str | None = None, matched: bool | None = None, kinds: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """Stored evidence as flat dicts, newest first."""
        sql, args = "SELECT * FROM evidence WHERE 1=1", []
        if batch is not None:
            sql, args = sql + " AND batch=?", [batch]
        if matched is not None:
            sql += " AND batch IS NOT NULL" if matched else " AND batch IS NULL"
        wanted = list(kinds)
        if wanted:
            sql += f" AND kind IN ({','.join('?' * len(wanted))})"
            args += wanted
        cur = self.db.execute(sql + " ORDER BY at DESC", args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]


def _on_row(report: Inbound, row: tuple[str, str, list[str]], how: str) -> list[Match]:
    batch, key, recipients = row
    by_address = {r.casefold(): r for r in recipients}
    notices = []
    for notice in report.notices:
        if notice.recipient or report.kind is not Kind.BOUNCE:
            notices.append(notice)
            continue
        # A free-text bounce naming no failed recipient: the row's addresses its text names.
        named = [by_address[a.casefold()] for a in report.addresses if a.casefold() in by_address]
        notices += [replace(notice, recipient=a) for a in dict.fromkeys(named)] or [notice]
    out = []
    for notice in notices:
        found = next(
            (by_address[a.casefold()] for a in (notice.original, notice.recipient)
             if a and a.casefold() in by_address),
            None,
        )  # fmt: skip
        if found is None and len(recipients) == 1 and report.kind in (Kind.DSN, Kind.BOUNCE):
            found = recipients[0]  # e.g. an alias rewritten on the way: the one recipient it had
        out.append(Match(notice, batch, key, found or notice.recipient, how))
    return out


def _apply(row: RowDelivery, found: tuple[Any, ...]) -> None:
    """Fold one piece of evidence into the row: bounced beats delivered beats delayed."""
    recipient, outcome, status, reason, diagnostic, at = found
    outcome = Outcome(outcome)
    if outcome is Outcome.REPLIED and recipient not in row.replies:
        row.replies.append(recipient)
    if outcome is Outcome.AUTO_REPLIED and recipient not in row.auto_replies:
        row.auto_replies.append(recipient)
    state = _FROM_OUTCOME[outcome]
    if recipient:
        old = row.recipients.get(recipient, Delivery.NONE)
        if _RANK[state] >= _RANK[old]:
            row.recipients[recipient] = state
    if _RANK[state] > _RANK[row.delivery] or (
        state is row.delivery and state in (Delivery.BOUNCED, Delivery.DELAYED)
    ):
        row.status, row.reason, row.diagnostic = status, reason, diagnostic
        row.delivery = state
    row.at = max(at or 0.0, row.at or 0.0) or None
