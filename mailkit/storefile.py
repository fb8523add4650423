"""The settings store's SQLite file: where it lives, its tables, who opens it, locked writes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from .errors import ConfigError
from .i18n import _

if sys.platform != "win32":
    import pwd

__all__ = ["STORE_ENV", "StoreFile", "current_user", "default_store_path"]

STORE_ENV = "MAILKIT_STORE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    kind TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    revision INTEGER NOT NULL, updated_by TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, owner, name));
CREATE TABLE IF NOT EXISTS secrets (
    owner TEXT NOT NULL, account TEXT NOT NULL, field TEXT NOT NULL, token BLOB NOT NULL,
    key_id TEXT NOT NULL, entered_by TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (owner, account, field));
CREATE TABLE IF NOT EXISTS rights (
    user TEXT NOT NULL, right TEXT NOT NULL, granted_by TEXT NOT NULL, PRIMARY KEY (user, right));
CREATE TABLE IF NOT EXISTS profiles (
    user TEXT NOT NULL, profile TEXT NOT NULL, PRIMARY KEY (user, profile));
CREATE TABLE IF NOT EXISTS prefs (
    user TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user, key));
"""


def current_user() -> str:
    """The user from a trusted source: JupyterHub's ``JUPYTERHUB_USER``, else the OS account.

    Never a typed field. The OS account comes from the process's uid, not from ``$USER``.
    """
    hub = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub:
        return hub
    if sys.platform == "win32":
        return os.getlogin()  # the logged-on account
    with contextlib.suppress(KeyError):  # a uid without a passwd entry (containers)
        return pwd.getpwuid(os.geteuid()).pw_name
    return f"uid{os.geteuid()}"


def default_store_path() -> Path:
    """``$MAILKIT_STORE``, else ``$XDG_DATA_HOME/mailkit/settings.sqlite3`` (~/.local/share)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(data) / "mailkit" / "settings.sqlite3"


class StoreFile:
    """The store's database for the current user, opened per process.

    Safe for several processes at once (SQLite WAL, ``BEGIN IMMEDIATE``).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.user = current_user()
        self.path = Path(path) if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._db = self._connect()
        with self.transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if db.execute("SELECT 1 FROM meta WHERE key='created_by'").fetchone() is None:
                db.execute("INSERT INTO meta VALUES ('created_by', ?)", (self.user,))
                db.execute("INSERT INTO meta VALUES ('schema', '1')")
                self._created(db)

    def _created(self, db: sqlite3.Connection) -> None:
        """Seed a store this process has just created, inside the creating transaction ``db``."""

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not self.path.exists()
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            if fresh:
                os.chmod(self.path, 0o600)  # an administrator may widen it for a shared store
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=30000")
        except (OSError, sqlite3.Error) as err:
            raise ConfigError(
                _("cannot open the settings store {path}: {reason}").format(
                    path=self.path, reason=err
                ),
                setting=STORE_ENV,
            ) from err
        return db

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before anything is read (no lost updates)."""
        with self._lock:
            if self._db.in_transaction:  # nested: the outermost one commits or rolls back
                yield self._db
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise ConfigError(
                    _("the settings store {path} is busy: {reason}; try again").format(
                        path=self.path, reason=err
                    ),
                    setting=STORE_ENV,
                ) from err
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())
