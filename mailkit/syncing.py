"""Read the answers back: an account's inbox synchronised by IMAP UID into the delivery evidence."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from .config import ImapSettings
from .delivery import Evidence, Match, transaction
from .errors import MailkitError
from .i18n import _
from .imap import ImapClient
from .inbound import HEADER_FIELDS, Inbound, Kind, parse, triage
from .mailerlog import event, log_scope
from .outbox import Outbox

__all__ = [
    "SyncOptions",
    "SyncProgress",
    "SyncReport",
    "SyncRun",
    "SyncState",
    "read_state",
]

_HEADERS = "BODY.PEEK[HEADER.FIELDS ({})]".format(" ".join(f.upper() for f in HEADER_FIELDS))
_FULL = "BODY.PEEK[]"  # PEEK: reading a report never marks it \\Seen (RFC 3501 6.4.5)
_MOVABLE = (Kind.DSN, Kind.BOUNCE, Kind.AUTO_REPLY)  # a person's reply is never moved


@dataclass(frozen=True)
class SyncOptions:
    """Which folder to read; ``move_to`` moves matched reports there (never by default)."""

    folder: str = "INBOX"
    move_to: str = ""
    chunk: int = 500  # messages per FETCH and per commit


@dataclass(frozen=True)
class SyncProgress:
    """Messages examined so far, of how many new ones, and reports found."""

    done: int
    total: int
    found: int


@dataclass
class SyncReport:
    """What one sync did."""

    account: str
    seen: int = 0  # new messages examined
    found: int = 0  # reports and replies recognised
    matched: int = 0  # pieces of evidence tied to a row
    unmatched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # delivered/delayed/bounced/replied
    moved: int = 0
    reset: bool = False  # UIDVALIDITY changed: the folder was read again from the start
    cancelled: bool = False
    elapsed: float = 0.0


@dataclass(frozen=True)
class SyncState:
    """The seed's "account synchronisation status" for one account."""

    account: str
    enabled: bool
    folder: str = ""
    last_sync: float | None = None
    last_ok: float | None = None
    seen_total: int = 0
    seen_last: int = 0
    found_last: int = 0
    last_error: str = ""
    uidvalidity: int | None = None
    last_uid: int = 0


def read_state(db: sqlite3.Connection, account: str) -> SyncState:
    """The stored sync status of ``account`` (disabled and empty when never set)."""
    row = db.execute(
        "SELECT enabled, folder, last_sync, last_ok, seen_total, seen_last, found_last, "
        "last_error, uidvalidity, last_uid FROM sync_state WHERE account=?",
        (account,),
    ).fetchone()
    if row is None:
        return SyncState(account, False)
    return SyncState(account, bool(row[0]), *row[1:])


@dataclass(frozen=True)
class _Pass:
    """What one sync works with."""

    imap: ImapClient
    outbox: Outbox
    evidence: Evidence
    report: SyncReport
    validity: int


class SyncRun:
    """One sync of one account: ``report = await run.run()``; ``run.cancel()`` stops it between
    chunks, keeping what was read (the next sync goes on from there)."""

    def __init__(
        self,
        account: str,
        imap: ImapSettings,
        outbox: str | Path | None = None,
        options: SyncOptions | None = None,
        *,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self.account, self.imap = account, imap
        self.outbox_path = outbox
        self.options = options or SyncOptions()
        self.progress = progress
        self._cancelled = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def cancel(self) -> None:
        """Stop after the chunk being read."""
        self._cancelled = True

    async def run(self) -> SyncReport:
        """Synchronise; MailkitError (login, TLS, journal) after recording it as the last error."""
        self._loop = asyncio.get_running_loop()
        with log_scope(account=self.account):
            return await asyncio.to_thread(self.run_blocking)

    def run_blocking(self) -> SyncReport:
        """The same, in the calling thread (scripts, cron)."""
        started = time.monotonic()
        report = SyncReport(self.account)
        with Outbox(self.outbox_path) as outbox:
            evidence = Evidence(outbox.db)
            try:
                with ImapClient(self.imap) as imap:
                    self._sync(imap, outbox, evidence, report)
            except MailkitError as err:
                self._finish(outbox, report, err.message)
                event("sync-failed", err.message, level="error", where=self._where)
                raise
            report.elapsed = time.monotonic() - started
            self._finish(outbox, report, "")
        event("sync", _summary(report), details=f"{report.elapsed:.1f} s", where=self._where)
        return report

    @property
    def _where(self) -> str:
        return f"{self.imap.host}:{self.imap.port}"

    def _sync(
        self, imap: ImapClient, outbox: Outbox, evidence: Evidence, report: SyncReport
    ) -> None:
        opts = self.options
        selected = imap.select(opts.folder, readonly=not opts.move_to)
        validity = int(selected.get(b"UIDVALIDITY", 0))
        state = read_state(outbox.db, self.account)
        last = state.last_uid
        if state.uidvalidity != validity or state.folder != opts.folder:
            report.reset = state.uidvalidity is not None
            last = 0  # UIDs of another UIDVALIDITY mean nothing (RFC 3501 2.3.1.1)
            if report.reset:
                event("uidvalidity", _("the folder was renumbered; reading it again"),
                      level="warning", details=f"{state.uidvalidity} -> {validity}")  # fmt: skip
        uids = sorted(u for u in imap.search(["UID", f"{last + 1}:*"]) if u > last)
        with transaction(outbox.db, outbox.path):
            self._save_position(outbox.db, opts.folder, validity, last)
        for start in range(0, len(uids), opts.chunk):
            if self._cancelled:
                report.cancelled = True
                break
            chunk = uids[start : start + opts.chunk]
            self._chunk(_Pass(imap, outbox, evidence, report, validity), chunk)
            self._tell(SyncProgress(start + len(chunk), len(uids), report.found))

    def _chunk(self, ctx: _Pass, uids: list[int]) -> None:
        """Recognise, record and (if told) move one chunk; its position commits with it."""
        found = _read(ctx.imap, uids)
        movable: list[int] = []
        with transaction(ctx.outbox.db, ctx.outbox.path):
            for uid, item in found:
                matches = ctx.evidence.record(self.account, self.options.folder, uid, item)
                if _count(ctx.report, item, matches) and item.kind in _MOVABLE:
                    movable.append(uid)
            self._save_position(ctx.outbox.db, self.options.folder, ctx.validity, uids[-1])
        ctx.report.seen += len(uids)
        if self.options.move_to and movable:
            ctx.imap.move(movable, self.options.move_to)
            ctx.report.moved += len(movable)

    def _save_position(self, db: sqlite3.Connection, folder: str, validity: int, uid: int) -> None:
        db.execute(
            "INSERT INTO sync_state(account, folder, uidvalidity, last_uid) VALUES (?,?,?,?) "
            "ON CONFLICT(account) DO UPDATE SET folder=excluded.folder, "
            "uidvalidity=excluded.uidvalidity, last_uid=excluded.last_uid",
            (self.account, folder, validity, uid),
        )

    def _finish(self, outbox: Outbox, report: SyncReport, error: str) -> None:
        now = time.time()
        with transaction(outbox.db, outbox.path):
            outbox.db.execute(
                "INSERT INTO sync_state(account) VALUES (?) ON CONFLICT(account) DO NOTHING",
                (self.account,),
            )
            outbox.db.execute(
                "UPDATE sync_state SET last_sync=?, "
                "last_ok=CASE WHEN ?='' THEN ? ELSE last_ok END, seen_total=seen_total+?, "
                "seen_last=?, found_last=?, last_error=? WHERE account=?",
                (now, error, now, report.seen, report.seen, report.found, error, self.account),
            )

    def _tell(self, progress: SyncProgress) -> None:
        if self.progress is None:
            return
        if self._loop is None:
            self.progress(progress)
            return
        # The app's callback runs on the kernel's loop thread; waiting for it lets a Cancel
        # pressed in it stop the very next chunk.
        called = threading.Event()
        callback = self.progress

        def call() -> None:
            try:
                callback(progress)
            finally:
                called.set()

        self._loop.call_soon_threadsafe(call)
        called.wait(5.0)


def _read(imap: ImapClient, uids: list[int]) -> list[tuple[int, Inbound]]:
    """Headers of every message; whole messages only for what may be a bounce or a DSN."""
    fetched = imap.fetch(uids, [_HEADERS])
    heads = {uid: _part(data, b"BODY[HEADER") for uid, data in fetched.items()}
    candidates = {uid: _kind(h) for uid, h in heads.items()}
    full = [u for u, k in candidates.items() if k in (Kind.DSN, Kind.BOUNCE)]
    bodies = {u: _part(d, b"BODY[]") for u, d in imap.fetch(full, [_FULL]).items()} if full else {}
    found: list[tuple[int, Inbound]] = []
    for uid in uids:
        if candidates.get(uid) is None:
            continue
        data = bodies.get(uid) or heads.get(uid, b"")
        parsed = _parse(data, headers_only=uid not in bodies)
        if parsed is not None:
            found.append((uid, parsed))
    return found


def _part(data: dict[bytes, Any], prefix: bytes) -> bytes:
    """The fetched item whose name starts with ``prefix`` (servers echo BODY[...] variously)."""
    for name, value in data.items():
        if name.upper().startswith(prefix) and isinstance(value, bytes):
            return value
    return b""


def _kind(headers: bytes) -> Kind | None:
    parsed = _parse_headers(headers)
    return triage(parsed) if parsed is not None else None


def _parse_headers(headers: bytes) -> Any:
    try:
        return BytesHeaderParser(policy=policy.default).parsebytes(headers)
    except Exception:  # untrusted mail: an unreadable header is ordinary mail
        return None


def _parse(data: bytes, *, headers_only: bool) -> Inbound | None:
    try:
        return parse(data, headers_only=headers_only)
    except Exception:  # untrusted mail must never stop the sync
        return None


def _count(report: SyncReport, item: Inbound, matches: list[Match]) -> bool:
    """Add ``item`` to the report; True when all of it was matched."""
    if item.kind is Kind.REPLY and not matches:
        return False  # an answer to other mail: not ours to count
    report.found += 1
    for m in matches:
        if m.batch is None:
            report.unmatched += 1
            continue
        report.matched += 1
        name = m.notice.outcome.value
        report.outcomes[name] = report.outcomes.get(name, 0) + 1
    return bool(matches) and all(m.batch is not None for m in matches)


def _summary(report: SyncReport) -> str:
    parts = [f"seen {report.seen}", f"found {report.found}", f"matched {report.matched}"]
    parts += [f"{k} {v}" for k, v in sorted(report.outcomes.items())]
    parts.append(f"unmatched {report.unmatched}")
    return ", ".join(parts)
