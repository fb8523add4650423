"""The settings store (SQLite): accounts, templates, types, jobs; global or per user; secrets.

Built in layers: ``storefile`` (the file, its tables, transactions), ``storerights`` (scopes,
rights, profiles, preferences), then here the entries and the encrypted secrets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Secret
from .errors import ConfigError, SecretError
from .i18n import _
from .secrets import Keys
from .storefile import current_user, default_store_path
from .storerights import GLOBAL_OWNER, MANAGE_RIGHT, Scope, StoreRights

__all__ = [
    "MANAGE_RIGHT",
    "Entry",
    "Scope",
    "SettingsStore",
    "current_user",
    "default_store_path",
]

log = logging.getLogger(__name__)


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


class SettingsStore(StoreRights):
    """Settings for the current user: global ones plus the user's own; opened per process.

    Safe for several processes at once (SQLite WAL, ``BEGIN IMMEDIATE``). The first user to
    create a store holds the "manage mail sending" right and can grant it.
    """

    def __init__(self, path: str | Path | None = None, *, keys: Keys | None = None) -> None:
        super().__init__(path)
        self.keys = keys if keys is not None else Keys(self.user)

    # -- entries ---------------------------------------------------------------------------

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        kind, owner, name, body, revision, by, at = row
        scope = Scope.GLOBAL if owner == GLOBAL_OWNER else Scope.PERSONAL
        return Entry(kind, scope, owner, name, json.loads(body), revision, by, at)

    def entries(self, kind: str, scope: Scope | None = None) -> list[Entry]:
        """Entries of ``kind`` in ``scope``; None: global ones and the user's own."""
        owners = (GLOBAL_OWNER, self.user) if scope is None else (self._owner(scope),)
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
