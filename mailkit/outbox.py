"""The outbox journal (SQLite, WAL): frozen messages, one state per row, exactly-once claims."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import BatchBusyError, JournalError
from .i18n import _
from .message import OutgoingMessage
from .outboxlog import FINAL_STATES, OutboxLog, RowState

__all__ = [
    "FINAL_STATES",
    "Outbox",
    "OutboxRow",
    "RowState",
    "default_outbox_path",
    "new_owner",
]

STALE_AFTER = 120.0  # seconds without a heartbeat after which a foreign owner counts as gone


_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches(
    id TEXT PRIMARY KEY, job TEXT, created REAL, owner TEXT, heartbeat REAL);
CREATE TABLE IF NOT EXISTS messages(
    batch TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
    message_id TEXT NOT NULL, mail_from TEXT NOT NULL, recipients TEXT NOT NULL,
    pending TEXT, smtputf8 INTEGER NOT NULL, size INTEGER NOT NULL,
    subject TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, code INTEGER, reply TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL DEFAULT '', account TEXT NOT NULL DEFAULT '', queued_at REAL,
    updated REAL, sent_at REAL, copy TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(batch, key));
CREATE INDEX IF NOT EXISTS messages_todo ON messages(batch, state, seq);
-- The frozen bytes live apart: a state change then rewrites a small row, not the payload.
CREATE TABLE IF NOT EXISTS payloads(
    batch TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,
    wire INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(batch, key));
-- wire: what is known of the bytes: 0 nothing, 1 CRLF line ends, 2 and no line starts with a dot
CREATE INDEX IF NOT EXISTS messages_account ON messages(account, sent_at);
CREATE TABLE IF NOT EXISTS recipients(
    batch TEXT NOT NULL, key TEXT NOT NULL, address TEXT NOT NULL, accepted INTEGER NOT NULL,
    code INTEGER, reply TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY(batch, key, address));
CREATE TABLE IF NOT EXISTS events(
    batch TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL, state TEXT NOT NULL,
    code INTEGER, reply TEXT NOT NULL DEFAULT '', phase TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_row ON events(batch, key);
"""


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring an outbox made by an earlier mailkit up to this schema (its rows keep working)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(payloads)")}
    if "wire" not in have:
        db.execute("ALTER TABLE payloads ADD COLUMN wire INTEGER NOT NULL DEFAULT 0")


def default_outbox_path() -> Path:
    """``$MAILKIT_OUTBOX``, else ``$XDG_DATA_HOME/mailkit/outbox.sqlite3`` (~/.local/share)."""
    explicit = os.environ.get("MAILKIT_OUTBOX")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mailkit" / "outbox.sqlite3"


def new_owner() -> str:
    """A sender's identity: host, process and a random part (two senders in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A journal row as the sender needs it; ``message.recipients`` are the ones still due."""

    key: str
    seq: int
    state: RowState
    attempts: int
    message: OutgoingMessage
    subject: str = ""


def _private_file(path: Path) -> None:
    """Create the database file (and its folder) readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # also when it existed with looser rights


class Outbox(OutboxLog):
    """One SQLite file; use from one thread at a time (the batch runs it in a worker thread)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_outbox_path()
        try:
            _private_file(self.path)
            # SQLite gives -wal/-shm files the main file's permissions (0600).
            self.db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
            _add_missing_columns(self.db)
        except (OSError, sqlite3.Error) as err:
            raise JournalError(
                _("cannot open the outbox {path}: {reason}").format(path=self.path, reason=err)
            ) from err

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tx(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` in one IMMEDIATE transaction (one fsync), translating errors."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(*args)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return result
        except sqlite3.Error as err:
            raise JournalError(
                _("the outbox {path} cannot be written: {reason}").format(
                    path=self.path, reason=err
                )
            ) from err

    # -- enqueue ---------------------------------------------------------------------------

    def ensure_batch(self, batch: str, job: str) -> None:
        """Create the batch record if it is new."""
        self._tx(
            lambda: self.db.execute(
                "INSERT OR IGNORE INTO batches(id, job, created) VALUES (?, ?, ?)",
                (batch, job, time.time()),
            )
        )

    def keys(self, batch: str) -> set[str]:
        """Row keys already in the journal (staged rows excluded)."""
        cur = self.db.execute(
            "SELECT key FROM messages WHERE batch=? AND state!='staged'", (batch,)
        )
        return {k for (k,) in cur}

    def stage(
        self, batch: str, items: Sequence[tuple[int, OutgoingMessage, str]], account: str = ""
    ) -> int:
        """Store frozen messages as ``staged`` (one commit); a key already there is kept as is."""
        now = time.time()
        rows = [
            (batch, m.key, seq, m.message_id, m.mail_from, json.dumps(m.recipients),
             int(m.smtputf8), len(m.data), subject, account, now)
            for seq, m, subject in items
        ]  # fmt: skip
        sql = (
            "INSERT OR IGNORE INTO messages(batch, key, seq, message_id, mail_from, recipients, "
            "smtputf8, size, subject, account, queued_at, state) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,'staged')"
        )
        payloads = [(batch, m.key, m.data, m.crlf + m.transparent) for _seq, m, _subject in items]
        blobs = "INSERT OR IGNORE INTO payloads(batch, key, data, wire) VALUES (?,?,?,?)"

        def write() -> int:
            added = self.db.executemany(sql, rows).rowcount
            self.db.executemany(blobs, payloads)
            return int(added)

        # Staged rows are never sent and a crash discards them, so their commits skip the
        # fsync; release() syncs the write-ahead log, and with it every staged row before it.
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            return int(self._tx(write))
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def release(self, batch: str) -> int:
        """Preflight passed: staged rows become queued."""
        sql = "UPDATE messages SET state='queued', updated=? WHERE batch=? AND state='staged'"
        return int(self._tx(lambda: self.db.execute(sql, (time.time(), batch)).rowcount))

    def discard_staged(self, batch: str) -> int:
        """Preflight failed: forget what it staged, so a fixed job is rendered anew."""

        def forget() -> int:
            self.db.execute(
                "DELETE FROM payloads WHERE batch=? AND key IN "
                "(SELECT key FROM messages WHERE batch=? AND state='staged')",
                (batch, batch),
            )
            cur = self.db.execute("DELETE FROM messages WHERE batch=? AND state='staged'", (batch,))
            return int(cur.rowcount)

        return int(self._tx(forget))

    # -- ownership ---------------------------------------------------------------------------

    def acquire(self, batch: str, owner: str) -> int:
        """Become the only sender of ``batch``; rows left ``sending`` become ``unknown``.

        Raises BatchBusyError while another live sender holds it. Returns how many rows were
        turned to ``unknown`` (a previous sender died after claiming them).
        """
        return int(self._tx(self._acquire, batch, owner))

    def _acquire(self, batch: str, owner: str) -> int:
        now = time.time()
        row = self.db.execute(
            "SELECT owner, heartbeat FROM batches WHERE id=?", (batch,)
        ).fetchone()
        if row is None:
            raise JournalError(_("there is no batch {batch} in the outbox").format(batch=batch))
        current, beat = row
        if current and current != owner and _alive(current, beat or 0.0, now):
            raise BatchBusyError(
                _(
                    "batch {batch} is being sent by another mailkit right now ({owner}); wait for "
                    "it to finish, or stop it first"
                ).format(batch=batch, owner=current.rsplit(":", 1)[0])
            )
        self.db.execute("UPDATE batches SET owner=?, heartbeat=? WHERE id=?", (owner, now, batch))
        return self._mark(batch, RowState.SENDING, RowState.UNKNOWN, _("the sender stopped"))

    def _mark(self, batch: str, old: RowState, new: RowState, reason: str) -> int:
        now = time.time()
        self.db.execute(
            "INSERT INTO events(batch, key, at, state, reply) "
            "SELECT batch, key, ?, ?, ? FROM messages WHERE batch=? AND state=?",
            (now, new.value, reason, batch, old.value),
        )
        cur = self.db.execute(
            "UPDATE messages SET state=?, updated=? WHERE batch=? AND state=?",
            (new.value, now, batch, old.value),
        )
        return int(cur.rowcount)

    def heartbeat(self, batch: str, owner: str) -> None:
        """Tell other senders this one is alive."""
        sql = "UPDATE batches SET heartbeat=? WHERE id=? AND owner=?"
        self._tx(lambda: self.db.execute(sql, (time.time(), batch, owner)))

    def release_owner(self, batch: str, owner: str) -> None:
        """Give the batch up (at the end of a run)."""
        sql = "UPDATE batches SET owner=NULL WHERE id=? AND owner=?"
        self._tx(lambda: self.db.execute(sql, (batch, owner)))

    # -- sending -----------------------------------------------------------------------------

    def due(
        self, batch: str, after: int = -1, limit: int = 200, keys: Iterable[str] | None = None
    ) -> list[OutboxRow]:
        """Queued or deferred rows with ``seq > after`` (only ``keys`` if given), in order, with
        their payloads.

        Each state is walked in ``seq`` order on the messages_todo index until ``limit`` rows
        are found, and only the rows taken are joined to their payloads, so a refill costs the
        same in a batch of 100,000 as in one of 100. Pass ``keys`` as a frozenset to have it
        used as it is (a sender asks for many refills with the same keys).
        """
        wanted = keys if isinstance(keys, frozenset) or keys is None else frozenset(keys)
        picked = [
            found
            for state in ("queued", "deferred")
            for found in self._waiting(batch, state, after, limit, wanted)
        ]
        taken = [key for _seq, key in sorted(picked)[:limit]]
        if not taken:
            return []
        sql = (
            "SELECT m.key, seq, state, attempts, message_id, mail_from, recipients, pending, "
            "smtputf8, p.data, p.wire, subject FROM messages m JOIN payloads p USING(batch, key) "
            "WHERE m.batch=? AND state IN ('queued','deferred') AND m.key IN ("
        )
        cur = self.db.execute(sql + ",".join("?" * len(taken)) + ") ORDER BY seq", (batch, *taken))
        return [_row(r) for r in cur]

    def _waiting(
        self, batch: str, state: str, after: int, limit: int, wanted: frozenset[str] | None
    ) -> list[tuple[int, str]]:
        """The first ``limit`` (seq, key) of ``state`` after ``after``, in the wanted keys."""
        sql = (
            "SELECT seq, key FROM messages WHERE batch=? AND state=? AND seq>? ORDER BY seq LIMIT ?"
        )
        chunk = limit if wanted is None else max(limit, 1000)
        found: list[tuple[int, str]] = []
        while len(found) < limit:
            rows = self.db.execute(sql, (batch, state, after, chunk)).fetchall()
            found += rows if wanted is None else [r for r in rows if r[1] in wanted]
            if len(rows) < chunk:
                break
            after = rows[-1][0]
        return found[:limit]

    def apply(
        self, owner: str, claims: Sequence[tuple[str, str]], results: Sequence[Any]
    ) -> list[bool]:
        """One commit for many claims (batch, key) and results; returns which claims held.

        A claim is a conditional UPDATE: only a queued/deferred row of a batch this owner holds
        becomes ``sending``, so two senders can never both send one row.
        """
        return list(self._tx(self._apply, owner, claims, results))

    def _apply(
        self, owner: str, claims: Sequence[tuple[str, str]], results: Sequence[Any]
    ) -> list[bool]:
        now = time.time()
        for item in results:
            self._result(now, item)
        won = []
        for batch, key in claims:
            cur = self.db.execute(
                "UPDATE messages SET state='sending', attempts=attempts+1, updated=? "
                "WHERE batch=? AND key=? AND state IN ('queued','deferred') "
                "AND (SELECT owner FROM batches WHERE id=?)=?",
                (now, batch, key, batch, owner),
            )
            won.append(cur.rowcount == 1)
        if claims:
            self.db.execute(
                "UPDATE batches SET heartbeat=? WHERE id=? AND owner=?", (now, claims[0][0], owner)
            )
        return won

    def _result(self, now: float, item: tuple[Any, ...]) -> None:
        """One row's new state: (batch, key, state, result or None to unclaim, pending
        recipients, next try, delivered to some)."""
        batch, key, state, result, pending, next_try, delivered = item
        if result is None:  # unclaimed: nothing was sent; the row waits in the queue again
            self.db.execute(
                "UPDATE messages SET state=?, attempts=MAX(attempts-1, 0), updated=? "
                "WHERE batch=? AND key=? AND state='sending'",
                (state.value, now, batch, key),
            )
            return
        self.db.execute(
            "UPDATE messages SET state=?, code=?, reply=?, phase=?, updated=?, next_try=?, "
            "pending=?, sent_at=CASE WHEN ? THEN COALESCE(sent_at, ?) ELSE sent_at END, "
            "copy=CASE WHEN copy='wanted' AND ? THEN 'pending' ELSE copy END "
            "WHERE batch=? AND key=?",
            (state.value, result.code, result.reply, result.phase, now, next_try,
             json.dumps(pending) if pending else None, delivered, now, delivered, batch, key),
        )  # fmt: skip
        final = [r for r in result.recipients if r.accepted or (r.code or 0) >= 500]
        self.db.executemany(
            "INSERT OR REPLACE INTO recipients VALUES (?,?,?,?,?,?,?)",
            [(batch, key, r.address, int(r.accepted), r.code, r.reply, now) for r in final],
        )
        self.db.execute(
            "INSERT INTO events VALUES (?,?,?,?,?,?,?)",
            (batch, key, now, state.value, result.code, result.reply, result.phase),
        )


def _row(r: tuple[Any, ...]) -> OutboxRow:
    key, seq, state, attempts, mid, mail_from, rcpts, pending, utf8, data, wire, subject = r
    recipients = tuple(json.loads(pending or rcpts))
    message = OutgoingMessage(
        key, mid, mail_from, recipients, bytes(data), bool(utf8), wire >= 1, wire >= 2
    )
    return OutboxRow(key, seq, RowState(state), attempts, message, subject)


def _alive(owner: str, heartbeat: float, now: float) -> bool:
    host, _sep, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False  # the process is gone (crash, kill -9): take over at once
        except PermissionError:
            pass
    return now - heartbeat < STALE_AFTER


def with_recipients(message: OutgoingMessage, recipients: Sequence[str]) -> OutgoingMessage:
    """The same frozen message for other envelope recipients (a new transaction)."""
    recipients = tuple(recipients)
    return message if recipients == message.recipients else replace(message, recipients=recipients)
