"""The settings store (SQLite): accounts, templates, types, jobs; global or per user; secrets."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .config import Secret
from .errors import ConfigError, SecretError
from .i18n import N_, _
from .secrets import Keys

if sys.platform != "win32":
    import pwd

__all__ = [
    "MANAGE_RIGHT",
    "Entry",
    "Scope",
    "SettingsStore",
    "current_user",
    "default_store_path",
]

log = logging.getLogger(__name__)

MANAGE_RIGHT = "manage-mail"  # the seeds' "Zarządzanie wysyłką mailem"
RIGHT_NAMES = {MANAGE_RIGHT: N_("manage mail sending")}
STORE_ENV = "MAILKIT_STORE"
_GLOBAL = ""

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


class Scope(StrEnum):
    """Who a setting is for: everyone (global) or only the current user (personal)."""

    GLOBAL = "global"  # the seed's "wspólne dla wszystkich użytkowników"
    PERSONAL = "personal"  # the seed's "tylko dla aktualnie zalogowanego użytkownika"


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


@dataclass(frozen=True)
class Entry:
    """One stored setting: an account, template, type or job, in one scope."""

    kind: str
    scope: Scope
    owner: str
    name: str
    body: dict[str, Any]
    revision: int
    updated_by: str
    updated_at: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SettingsStore:
    """Settings for the current user: global ones plus the user's own; opened per process.

    Safe for several processes at once (SQLite WAL, ``BEGIN IMMEDIATE``). The first user to
    create a store holds the "manage mail sending" right and can grant it.
    """

    def __init__(self, path: str | Path | None = None, *, keys: Keys | None = None) -> None:
        self.user = current_user()
        self.path = Path(path) if path is not None else default_store_path()
        self.keys = keys if keys is not None else Keys(self.user)
        self._lock = threading.RLock()
        self._db = self._connect()
        with self.transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if db.execute("SELECT 1 FROM meta WHERE key='created_by'").fetchone() is None:
                db.execute("INSERT INTO meta VALUES ('created_by', ?)", (self.user,))
                db.execute("INSERT INTO meta VALUES ('schema', '1')")
                db.execute(
                    "INSERT OR IGNORE INTO rights VALUES (?, ?, ?)",
                    (self.user, MANAGE_RIGHT, self.user),
                )

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

    def __enter__(self) -> SettingsStore:
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

    # -- rights, profiles and preferences -------------------------------------------------

    def has_right(self, right: str = MANAGE_RIGHT, user: str | None = None) -> bool:
        """Whether ``user`` (default: the current one) holds ``right``."""
        who = self.user if user is None else user
        return bool(self._rows("SELECT 1 FROM rights WHERE user=? AND right=?", (who, right)))

    def can_manage(self) -> bool:
        """Whether the current user may change global settings."""
        return self.has_right(MANAGE_RIGHT)

    def managers(self) -> list[str]:
        """Users holding the "manage mail sending" right."""
        rows = self._rows("SELECT user FROM rights WHERE right=? ORDER BY user", (MANAGE_RIGHT,))
        return [r[0] for r in rows]

    def require_manage(self) -> None:
        """ConfigError unless the current user may change global settings."""
        if not self.can_manage():
            raise ConfigError(
                _(
                    "only users with the right '{right}' can change settings shared by all "
                    "users ({managers}); save it for yourself only (personal scope) or ask them"
                ).format(right=_(RIGHT_NAMES[MANAGE_RIGHT]), managers=", ".join(self.managers())),
                setting="scope",
            )

    def grant(self, user: str, right: str = MANAGE_RIGHT) -> None:
        """Give ``user`` a right (managers only)."""
        self.require_manage()
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO rights VALUES (?, ?, ?)", (user, right, self.user))
        log.info("user %s granted %s to %s", self.user, right, user)

    def revoke(self, user: str, right: str = MANAGE_RIGHT) -> None:
        """Take a right away (managers only); the last manager stays."""
        self.require_manage()
        with self.transaction() as db:
            db.execute("DELETE FROM rights WHERE user=? AND right=?", (user, right))
            left = db.execute("SELECT COUNT(*) FROM rights WHERE right=?", (MANAGE_RIGHT,))
            if right == MANAGE_RIGHT and left.fetchone()[0] == 0:
                raise ConfigError(
                    _("{user} is the last user who can manage mail sending").format(user=user),
                    setting="rights",
                )
        log.info("user %s revoked %s from %s", self.user, right, user)

    def profiles(self, user: str | None = None) -> frozenset[str]:
        """The profiles (roles) of ``user``, e.g. 'kadry', 'finanse'."""
        who = self.user if user is None else user
        return frozenset(
            r[0] for r in self._rows("SELECT profile FROM profiles WHERE user=?", (who,))
        )

    def set_profiles(self, user: str, profiles: set[str] | frozenset[str]) -> None:
        """Set the profiles of ``user`` (managers only)."""
        self.require_manage()
        with self.transaction() as db:
            db.execute("DELETE FROM profiles WHERE user=?", (user,))
            db.executemany(
                "INSERT INTO profiles VALUES (?, ?)", [(user, p) for p in sorted(profiles) if p]
            )

    def pref(self, key: str, default: str = "", *, shared: bool = False) -> str:
        """A preference of the current user (or a shared one)."""
        who = _GLOBAL if shared else self.user
        rows = self._rows("SELECT value FROM prefs WHERE user=? AND key=?", (who, key))
        return str(rows[0][0]) if rows else default

    def set_pref(self, key: str, value: str, *, shared: bool = False) -> None:
        """Set a preference of the current user; a shared one needs the manage right."""
        if shared:
            self.require_manage()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO prefs VALUES (?, ?, ?)",
                (_GLOBAL if shared else self.user, key, value),
            )

    def selected_scope(self) -> Scope:
        """The configuration scope this user chose (global until they choose)."""
        return Scope(self.pref("scope", Scope.GLOBAL.value))

    def select_scope(self, scope: Scope) -> None:
        """Choose whose configuration applies to this user; personal settings are kept."""
        self.set_pref("scope", Scope(scope).value)

    # -- entries ---------------------------------------------------------------------------

    def _owner(self, scope: Scope) -> str:
        return _GLOBAL if Scope(scope) is Scope.GLOBAL else self.user

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        kind, owner, name, body, revision, by, at = row
        scope = Scope.GLOBAL if owner == _GLOBAL else Scope.PERSONAL
        return Entry(kind, scope, owner, name, json.loads(body), revision, by, at)

    def entries(self, kind: str, scope: Scope | None = None) -> list[Entry]:
        """Entries of ``kind`` in ``scope``; None: global ones and the user's own."""
        owners = (_GLOBAL, self.user) if scope is None else (self._owner(scope),)
        rows = self._rows(
            "SELECT kind, owner, name, body, revision, updated_by, updated_at FROM entries "
            "WHERE kind=? AND owner IN (?, ?) ORDER BY name, owner",
            (kind, owners[0], owners[-1]),
        )
        return [self._entry(r) for r in rows]

    def entry(self, kind: str, name: str, scope: Scope) -> Entry | None:
        """One entry, or None."""
        rows = self._rows(
            "SELECT kind, owner, name, body, revision, updated_by, updated_at FROM entries "
            "WHERE kind=? AND owner=? AND name=?",
            (kind, self._owner(scope), name),
        )
        return self._entry(rows[0]) if rows else None

    def effective(self, kind: str) -> dict[str, Entry]:
        """What applies to this user: global entries, overridden by personal ones when the user
        chose the personal scope (the seed: a personal change affects only that user)."""
        out = {e.name: e for e in self.entries(kind, Scope.GLOBAL)}
        if self.selected_scope() is Scope.PERSONAL:
            out.update({e.name: e for e in self.entries(kind, Scope.PERSONAL)})
        return out

    def put(
        self,
        kind: str,
        name: str,
        body: dict[str, Any],
        scope: Scope,
        *,
        expected_revision: int | None = None,
        db: sqlite3.Connection | None = None,
    ) -> Entry:
        """Save an entry; ``expected_revision`` (0: must be new) refuses a lost update."""
        if Scope(scope) is Scope.GLOBAL:
            self.require_manage()
        if db is None:
            with self.transaction() as tx:
                return self.put(kind, name, body, scope, expected_revision=expected_revision, db=tx)
        owner = self._owner(scope)
        row = db.execute(
            "SELECT revision, updated_by, updated_at FROM entries WHERE kind=? AND owner=? "
            "AND name=?",
            (kind, owner, name),
        ).fetchone()
        revision = row[0] if row else 0
        if expected_revision is not None and expected_revision != revision:
            raise ConfigError(
                _(
                    "{name} was changed by {user} at {when} after you opened it; load it again "
                    "and repeat your change"
                ).format(name=name, user=row[1] if row else "?", when=row[2] if row else "?"),
                setting=kind,
            )
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        now = _now()
        db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, owner, name, text, revision + 1, self.user, now),
        )
        log.info("%s %s saved (%s) by %s", kind, name, Scope(scope).value, self.user)
        return Entry(kind, Scope(scope), owner, name, body, revision + 1, self.user, now)

    def delete(self, kind: str, name: str, scope: Scope) -> bool:
        """Remove an entry (and an account's secrets); False when there was none."""
        if Scope(scope) is Scope.GLOBAL:
            self.require_manage()
        owner = self._owner(scope)
        with self.transaction() as db:
            gone = db.execute(
                "DELETE FROM entries WHERE kind=? AND owner=? AND name=?", (kind, owner, name)
            ).rowcount
            if kind == "account":
                db.execute("DELETE FROM secrets WHERE owner=? AND account=?", (owner, name))
        log.info("%s %s removed (%s) by %s", kind, name, Scope(scope).value, self.user)
        return bool(gone)

    # -- secrets -----------------------------------------------------------------------------

    def set_secret(
        self, account: str, scope: Scope, field: str, secret: Secret, *, db: sqlite3.Connection
    ) -> None:
        """Encrypt and save ``secret`` inside the caller's transaction ``db``."""
        owner = self._owner(scope)
        existing = db.execute("SELECT COUNT(*) FROM secrets WHERE owner=?", (owner,)).fetchone()[0]
        cipher = self.keys.cipher(owner, create=existing == 0)
        db.execute(
            "INSERT OR REPLACE INTO secrets VALUES (?, ?, ?, ?, ?, ?, ?)",
            (owner, account, field, cipher.encrypt(secret), cipher.key_id, self.user, _now()),
        )

    def secret_fields(self, account: str, scope: Scope) -> dict[str, str]:
        """Which secrets are saved for ``account``: field -> who entered it (never the value)."""
        rows = self._rows(
            "SELECT field, entered_by FROM secrets WHERE owner=? AND account=?",
            (self._owner(scope), account),
        )
        return {r[0]: r[1] for r in rows}

    def use_secret(self, account: str, scope: Scope, field: str) -> Secret | None:
        """The decrypted secret for logging in, or None; callers check the right to use it."""
        owner = self._owner(scope)
        rows = self._rows(
            "SELECT token, key_id FROM secrets WHERE owner=? AND account=? AND field=?",
            (owner, account, field),
        )
        if not rows:
            return None
        what = _("the saved {field} of account {account}").format(field=field, account=account)
        return self.keys.cipher(owner).decrypt(rows[0][0], rows[0][1], what)

    def reveal_secret(self, account: str, scope: Scope, field: str) -> Secret:
        """The seed's "Show": only the user who entered a password may see it again."""
        entered = self.secret_fields(account, scope).get(field)
        if entered is None:
            raise ConfigError(
                _("no {field} is saved for account {account}").format(field=field, account=account),
                setting=field,
            )
        if entered != self.user:
            raise SecretError(
                _("only {user}, who entered this password, can show it").format(user=entered),
                setting=field,
            )
        secret = self.use_secret(account, scope, field)
        assert secret is not None  # secret_fields just found it
        return secret
