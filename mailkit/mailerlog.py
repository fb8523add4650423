"""The mailer log: structured events per batch and account in rotated JSON-lines files."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

try:  # POSIX: one writer at a time across processes (the app and a cron job share the log)
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends are still whole lines
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LEVELS",
    "LogEntry",
    "MailerLog",
    "default_log_dir",
    "event",
    "log_scope",
    "parse_since",
    "scrub",
]

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
LOG_DIR_ENV = "MAILKIT_LOG_DIR"
LOG_LEVEL_ENV = "MAILKIT_LOG_LEVEL"
FILE_NAME = "mailer.jsonl"
MAX_BYTES = 5_000_000  # per file; with BACKUPS older files that is at most 30 MB
BACKUPS = 5

_stdlib = logging.getLogger("mailkit.mailer")
_context: ContextVar[dict[str, str]] = ContextVar("mailkit_mailer_context", default={})  # noqa: B039 (never mutated)

# Defence in depth: mailkit never passes a secret here, but a server's reply text is echoed.
_SECRETS = (
    (re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5))\s+\S+"), r"\1 ********"),
    (re.compile(r"(?i)\b(password|passwd|haslo|hasło|token|secret)(\s*[=:]\s*)\S+"), r"\1\2****"),
    (re.compile(r"(?i)\b(Bearer)\s+\S+"), r"\1 ********"),
)  # fmt: skip


def default_log_dir() -> Path:
    """``$MAILKIT_LOG_DIR``, else ``$XDG_DATA_HOME/mailkit/logs`` (~/.local/share)."""
    explicit = os.environ.get(LOG_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mailkit" / "logs"


def scrub(text: str) -> str:
    """``text`` with anything shaped like a credential masked."""
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event: when, how bad, what happened, for which batch/account/server, reply code."""

    at: str  # ISO 8601 with the UTC offset
    level: str
    event: str  # connect, tls, login-failed, retry, pause, rate-wait, stop, sync, ...
    message: str
    batch: str = ""
    account: str = ""
    where: str = ""  # host:port
    key: str = ""  # the row, when the event is about one message
    code: int | None = None
    status: str = ""  # the enhanced status code (RFC 3463), e.g. 5.7.8
    details: str = ""  # TLS version and cipher, extensions, counts: short text

    @property
    def time(self) -> float:
        """``at`` as a POSIX timestamp."""
        return dt.datetime.fromisoformat(self.at).timestamp()

    def as_row(self) -> dict[str, Any]:
        """The entry as a flat dict (for tables and exports)."""
        return asdict(self)


@contextlib.contextmanager
def log_scope(*, fill: bool = False, **fields: str) -> Iterator[None]:
    """Events inside the block carry these fields (``batch=``, ``account=``); tasks and threads
    started inside inherit them (contextvars). ``fill`` sets only fields not set already."""
    given = {k: v for k, v in fields.items() if v}
    current = _context.get()
    token = _context.set({**given, **current} if fill else {**current, **given})
    try:
        yield
    finally:
        _context.reset(token)


def event(name: str, message: str, *, level: str = "info", **fields: Any) -> None:
    """Record one event in the mailer log (and in ``logging`` as ``mailkit.mailer``).

    Never raises: a full disk must not stop a batch; the failure goes to ``logging``.
    """
    data = {**_context.get(), **{k: v for k, v in fields.items() if v not in (None, "")}}
    entry = LogEntry(
        at=dt.datetime.now().astimezone().isoformat(timespec="milliseconds"),
        level=level,
        event=name,
        message=scrub(str(message)),
        batch=str(data.get("batch", "")),
        account=str(data.get("account", "")),
        where=str(data.get("where", "")),
        key=str(data.get("key", "")),
        code=int(data["code"]) if data.get("code") is not None else None,
        status=str(data.get("status", "")),
        details=scrub(str(data.get("details", ""))),
    )
    if _stdlib.hasHandlers():  # only where logging is set up: no "last resort" lines on stderr
        who = entry.batch or entry.account
        _stdlib.log(LEVELS.get(level, 20), "%s %s: %s", who, name, entry.message)
    if LEVELS.get(level, 20) < LEVELS.get(os.environ.get(LOG_LEVEL_ENV, "info").lower(), 20):
        return
    try:
        MailerLog().write(entry)
    except OSError as err:
        _stdlib.warning("the mailer log cannot be written: %s", err)


class MailerLog:
    """The log files in ``folder``: the current one and up to ``backups`` rotated ones."""

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        max_bytes: int = MAX_BYTES,
        backups: int = BACKUPS,
    ) -> None:
        self.folder = Path(folder) if folder is not None else default_log_dir()
        self.max_bytes, self.backups = max_bytes, backups
        self.path = self.folder / FILE_NAME

    def files(self) -> list[Path]:
        """Existing log files, oldest first."""
        rotated = [self.folder / f"{FILE_NAME}.{n}" for n in range(self.backups, 0, -1)]
        return [p for p in (*rotated, self.path) if p.exists()]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # also releases the lock

    def write(self, entry: LogEntry) -> None:
        """Append one entry; rotate first when the current file is full."""
        line = json.dumps(entry.as_row(), ensure_ascii=False) + "\n"
        with self._locked():
            with contextlib.suppress(FileNotFoundError):
                if self.path.stat().st_size + len(line) > self.max_bytes:
                    self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)

    def _rotate(self) -> None:
        for n in range(self.backups - 1, 0, -1):
            older = self.folder / f"{FILE_NAME}.{n}"
            if older.exists():
                older.replace(self.folder / f"{FILE_NAME}.{n + 1}")
        self.path.replace(self.folder / f"{FILE_NAME}.1")

    def entries(self) -> Iterator[LogEntry]:
        """Every entry, oldest first; a damaged line is skipped."""
        names = {f.name for f in LogEntry.__dataclass_fields__.values()}
        for path in self.files():
            with path.open(encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    with contextlib.suppress(ValueError, TypeError):
                        data = json.loads(line)
                        yield LogEntry(**{k: v for k, v in data.items() if k in names})

    def query(
        self,
        *,
        batch: str | None = None,
        account: str | None = None,
        since: float | None = None,
        level: str = "debug",
        events: Mapping[str, object] | set[str] | None = None,
        limit: int | None = None,
    ) -> list[LogEntry]:
        """Entries matching every filter given, oldest first; ``limit`` keeps the newest."""
        floor = LEVELS.get(level, 10)
        wanted_account = account.casefold() if account else None
        out = []
        for entry in self.entries():
            if batch is not None and entry.batch != batch:
                continue
            if wanted_account is not None and entry.account.casefold() != wanted_account:
                continue
            if events is not None and entry.event not in events:
                continue
            if LEVELS.get(entry.level, 20) < floor:
                continue
            if since is not None and entry.time < since:
                continue
            out.append(entry)
        return out[-limit:] if limit else out


def parse_since(text: str, now: float | None = None) -> float:
    """'2h', '30m', '7d', an ISO date or date-time -> a POSIX timestamp; ValueError otherwise."""
    text = text.strip()
    units = {"m": 60, "h": 3600, "d": 86400}
    found = re.fullmatch(r"(\d+)\s*([mhd])", text)
    if found:
        return (now or time.time()) - int(found.group(1)) * units[found.group(2)]
    when = dt.datetime.fromisoformat(text)
    return (when if when.tzinfo else when.astimezone()).timestamp()
