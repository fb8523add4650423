"""The outbox's operator side: counts, the per-row log, history, requeue, retention, copies."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any

from .i18n import _

__all__ = ["FINAL_STATES", "OutboxLog", "RowState"]


class RowState(StrEnum):
    """Where one message is; ``sending`` is committed before any socket I/O."""

    STAGED = "staged"  # enqueued by a preflight still running; never sent
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    PARTIAL = "partial"  # delivered to some recipients; the others refused for good
    DEFERRED = "deferred"  # refused for now; retried with backoff
    FAILED = "failed"
    UNKNOWN = "unknown"  # the connection broke after DATA began; resent only on request


FINAL_STATES = frozenset({RowState.SENT, RowState.PARTIAL, RowState.FAILED})
# Selected keys travel as one JSON parameter: a selection of any size, not one variable per key
# (SQLite caps variables per statement).
_KEY_IN = " AND key IN (SELECT value FROM json_each(?))"


class OutboxLog:
    """Queries and operator actions on the journal; mixed into ``Outbox``."""

    db: sqlite3.Connection

    def _tx(self, fn: Any, *args: Any) -> Any:
        raise NotImplementedError

    def requeue(self, batch: str, state: RowState, keys: Iterable[str] | None = None) -> int:
        """Put rows in ``state`` (unknown, failed, deferred) back in the queue, same bytes/ID."""
        return int(self._tx(self._requeue, batch, state, None if keys is None else list(keys)))

    def _requeue(self, batch: str, state: RowState, keys: list[str] | None) -> int:
        where = (
            "batch=? AND state=? AND EXISTS (SELECT 1 FROM payloads p "
            "WHERE p.batch=messages.batch AND p.key=messages.key)"
        )
        args: list[Any] = [batch, state.value]
        if keys is not None:
            where += _KEY_IN
            args.append(json.dumps(keys))
        now = time.time()
        self.db.execute(
            f"INSERT INTO events(batch, key, at, state, reply) SELECT batch, key, ?, 'queued', ? "  # noqa: S608 (only placeholders are formatted in)
            f"FROM messages WHERE {where}",
            (now, _("queued again on request"), *args),
        )
        cur = self.db.execute(
            f"UPDATE messages SET state='queued', next_try=0, updated=? WHERE {where}",  # noqa: S608
            (now, *args),
        )
        return int(cur.rowcount)

    def counts(self, batch: str, keys: Sequence[str] | None = None) -> dict[RowState, int]:
        """How many rows (of ``keys``, or all) are in each state."""
        sql = "SELECT state, COUNT(*) FROM messages WHERE batch=?"
        args: list[Any] = [batch]
        if keys is not None:
            sql += _KEY_IN
            args.append(json.dumps(list(keys)))
        cur = self.db.execute(sql + " GROUP BY state", args)
        return {RowState(s): n for s, n in cur}

    def report(self, batch: str) -> Iterator[dict[str, Any]]:
        """The per-row log: state, attempts, reply, times and per-recipient results."""
        cur = self.db.execute(
            "SELECT key, state, attempts, message_id, recipients, subject, code, reply, phase, "
            "sent_at, updated FROM messages WHERE batch=? ORDER BY seq",
            (batch,),
        )
        for key, state, attempts, mid, rcpts, subject, code, reply, phase, sent_at, upd in cur:
            refused = self.db.execute(
                "SELECT address, code, reply FROM recipients "
                "WHERE batch=? AND key=? AND accepted=0",
                (batch, key),
            ).fetchall()
            yield {
                "key": key, "state": state, "attempts": attempts, "message_id": mid,
                "recipients": ", ".join(json.loads(rcpts)), "subject": subject,
                "code": code, "reply": reply, "phase": phase,
                "sent_at": _iso(sent_at), "updated": _iso(upd),
                "refused": "; ".join(f"{a}: {c} {r}" for a, c, r in refused),
            }  # fmt: skip

    def history(self, batch: str, key: str) -> list[tuple[float, str, int | None, str]]:
        """Every recorded state change of one row: (time, state, code, reply)."""
        cur = self.db.execute(
            "SELECT at, state, code, reply FROM events WHERE batch=? AND key=? ORDER BY rowid",
            (batch, key),
        )
        return list(cur)

    def batches(self) -> list[tuple[str, str, float]]:
        """Every batch: (id, job name, created)."""
        return list(self.db.execute("SELECT id, job, created FROM batches ORDER BY created"))

    def sent_since(self, account: str, since: float) -> list[tuple[float, int]]:
        """(time, recipients) of messages this account sent since ``since`` (rate limits)."""
        cur = self.db.execute(
            "SELECT sent_at, recipients FROM messages WHERE account=? AND sent_at>=? "
            "ORDER BY sent_at",
            (account, since),
        )
        return [(t, len(json.loads(r))) for t, r in cur]

    def purge(self, older_than_days: float) -> int:
        """Drop the payload of finished rows older than the retention; the log stays."""
        cutoff = time.time() - older_than_days * 86400
        sql = (
            "DELETE FROM payloads WHERE (batch, key) IN (SELECT batch, key FROM messages "
            "WHERE updated<? AND state IN ('sent','partial','failed') AND copy!='pending')"
        )
        return int(self._tx(lambda: self.db.execute(sql, (cutoff,)).rowcount))

    def set_copy(self, batch: str, key: str, state: str) -> None:
        """Record the IMAP copy state of a row ('wanted', 'pending', 'done', 'failed')."""
        sql = "UPDATE messages SET copy=? WHERE batch=? AND key=?"
        self._tx(lambda: self.db.execute(sql, (state, batch, key)))

    def want_copies(self, batch: str) -> None:
        """Rows not yet sent get an IMAP copy once they are."""
        sql = "UPDATE messages SET copy='wanted' WHERE batch=? AND copy='' AND sent_at IS NULL"
        self._tx(lambda: self.db.execute(sql, (batch,)))

    def copies_due(self, batch: str, limit: int = 100) -> list[tuple[str, bytes]]:
        """(key, bytes) of sent rows whose IMAP copy is still to be made."""
        cur = self.db.execute(
            "SELECT m.key, p.data FROM messages m JOIN payloads p USING(batch, key) "
            "WHERE m.batch=? AND copy='pending' ORDER BY seq LIMIT ?",
            (batch, limit),
        )
        return list(cur)


def _iso(value: float | None) -> str:
    if not value:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
