"""Who may change what in the settings store: scopes, rights, profiles and preferences."""

from __future__ import annotations

import logging
import sqlite3
from enum import StrEnum

from .errors import ConfigError
from .i18n import N_, _
from .storefile import StoreFile

__all__ = ["GLOBAL_OWNER", "MANAGE_RIGHT", "RIGHT_NAMES", "Scope", "StoreRights"]

log = logging.getLogger(__name__)

MANAGE_RIGHT = "manage-mail"  # the seeds' "Zarządzanie wysyłką mailem"
RIGHT_NAMES = {MANAGE_RIGHT: N_("manage mail sending")}
GLOBAL_OWNER = ""  # the owner of global settings, preferences and secrets


class Scope(StrEnum):
    """Who a setting is for: everyone (global) or only the current user (personal)."""

    GLOBAL = "global"  # the seed's "wspólne dla wszystkich użytkowników"
    PERSONAL = "personal"  # the seed's "tylko dla aktualnie zalogowanego użytkownika"


class StoreRights(StoreFile):
    """The store's rights, profiles and preferences; scopes resolved to their owners.

    The first user to create a store holds the "manage mail sending" right and can grant it.
    """

    def _created(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT OR IGNORE INTO rights VALUES (?, ?, ?)",
            (self.user, MANAGE_RIGHT, self.user),
        )

    def _owner(self, scope: Scope) -> str:
        return GLOBAL_OWNER if Scope(scope) is Scope.GLOBAL else self.user

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
        who = GLOBAL_OWNER if shared else self.user
        rows = self._rows("SELECT value FROM prefs WHERE user=? AND key=?", (who, key))
        return str(rows[0][0]) if rows else default

    def set_pref(self, key: str, value: str, *, shared: bool = False) -> None:
        """Set a preference of the current user; a shared one needs the manage right."""
        if shared:
            self.require_manage()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO prefs VALUES (?, ?, ?)",
                (GLOBAL_OWNER if shared else self.user, key, value),
            )

    def selected_scope(self) -> Scope:
        """The configuration scope this user chose (global until they choose)."""
        return Scope(self.pref("scope", Scope.GLOBAL.value))

    def select_scope(self, scope: Scope) -> None:
        """Choose whose configuration applies to this user; personal settings are kept."""
        self.set_pref("scope", Scope(scope).value)
