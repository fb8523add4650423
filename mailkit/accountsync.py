"""Sync per saved account: switch it on or off, see its status, start a sync with its settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .delivery import Evidence, transaction
from .errors import ConfigError
from .i18n import _
from .outbox import Outbox
from .saved_accounts import account_for_sending, get_account, list_accounts
from .store import SettingsStore
from .syncing import SyncOptions, SyncProgress, SyncRun, SyncState, read_state

__all__ = ["enabled_accounts", "set_sync", "sync_run", "sync_states"]


def _store(store: SettingsStore | None) -> SettingsStore:
    return store if store is not None else SettingsStore()


def _need_imap(store: SettingsStore, name: str) -> None:
    if get_account(store, name).account.imap is None:
        raise ConfigError(
            _("account {name} has no IMAP settings; add them to read its replies and reports")
            .format(name=name),
            setting="account.imap",
        )  # fmt: skip


def set_sync(
    name: str,
    enabled: bool,
    *,
    outbox: str | Path | None = None,
    store: SettingsStore | None = None,
) -> SyncState:
    """Switch the synchronisation of saved account ``name`` on or off."""
    settings = _store(store)
    try:
        if enabled:
            _need_imap(settings, name)
        else:
            get_account(settings, name)
    finally:
        if store is None:
            settings.close()
    with Outbox(outbox) as box:
        Evidence(box.db)  # creates the tables
        with transaction(box.db, box.path):
            box.db.execute(
                "INSERT INTO sync_state(account, enabled) VALUES (?, ?) "
                "ON CONFLICT(account) DO UPDATE SET enabled=excluded.enabled",
                (name, int(enabled)),
            )
        return read_state(box.db, name)


def sync_states(
    *, outbox: str | Path | None = None, store: SettingsStore | None = None
) -> list[SyncState]:
    """The status of every saved account that has IMAP settings (the seed's status table)."""
    settings = _store(store)
    try:
        names = sorted({s.account.name for s in list_accounts(settings) if s.account.imap})
    finally:
        if store is None:
            settings.close()
    with Outbox(outbox) as box:
        Evidence(box.db)
        return [read_state(box.db, n) for n in names]


def enabled_accounts(
    *, outbox: str | Path | None = None, store: SettingsStore | None = None
) -> list[str]:
    """Saved accounts whose sync is switched on."""
    return [s.account for s in sync_states(outbox=outbox, store=store) if s.enabled]


def sync_run(
    name: str,
    *,
    outbox: str | Path | None = None,
    store: SettingsStore | None = None,
    options: SyncOptions | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
) -> SyncRun:
    """A SyncRun for saved account ``name`` with its IMAP settings and saved password."""
    settings = _store(store)
    try:
        _need_imap(settings, name)
        account = account_for_sending(settings, name)
    finally:
        if store is None:
            settings.close()
    assert account.imap is not None
    return SyncRun(name, account.imap, outbox, options, progress=progress)
