"""Accounts kept in the settings store: list with filters, save with write-only secrets, use."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from .accounts import TOKEN_FIELD, Account, AuthMethod, account_from_dict, account_to_dict
from .config import Secret
from .errors import ConfigError
from .i18n import _
from .labels import scope_label
from .store import Entry, Scope, SettingsStore

__all__ = [
    "ACCOUNT",
    "SECRET_FIELDS",
    "SavedAccount",
    "StaticToken",
    "account_for_sending",
    "get_account",
    "list_accounts",
    "remove_account",
    "save_account",
    "with_token",
]

ACCOUNT = "account"
SECRET_FIELDS = ("smtp.password", "imap.password", TOKEN_FIELD)


@dataclass(frozen=True)
class SavedAccount:
    """An account as stored: its settings (no secret), scope, revision and which secrets exist."""

    account: Account
    scope: Scope
    revision: int
    secrets: Mapping[str, str]  # field -> the user who entered it; never the value
    updated_by: str
    updated_at: str

    @property
    def missing(self) -> tuple[str, ...]:
        """Secret fields the account needs but has not got."""
        return tuple(f for f in self.account.needs() if f not in self.secrets)


class StaticToken:
    """An OAuth2 access token saved in the store (refreshing it is the provider's job)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    async def token(self) -> str:
        """The saved access token."""
        return self._token.reveal()


def _saved(store: SettingsStore, entry: Entry) -> SavedAccount:
    account = account_from_dict(entry.body, f"account {entry.name}")
    return SavedAccount(
        account,
        entry.scope,
        entry.revision,
        store.secret_fields(entry.name, entry.scope),
        entry.updated_by,
        entry.updated_at,
    )


def _matches(account: Account, text: str) -> bool:
    """The seed's filter: name, owner, address, IMAP/SMTP servers, logins and ports."""
    fields = [account.name, account.owner, account.address, account.sender_name]
    for server in (account.smtp, account.imap):
        if server is not None:
            fields += [server.host, server.username, str(server.port)]
    needle = text.casefold()
    return any(needle in f.casefold() for f in fields)


def list_accounts(
    store: SettingsStore,
    scope: Scope | None = None,
    *,
    text: str = "",
    integration: bool | None = None,
    usable: bool = False,
) -> list[SavedAccount]:
    """Accounts in ``scope`` (None: global and the user's own), filtered like the seed's list."""
    out = []
    profiles = store.profiles()
    for entry in store.entries(ACCOUNT, scope):
        saved = _saved(store, entry)
        account = saved.account
        if text and not _matches(account, text):
            continue
        if integration is not None and account.integration != integration:
            continue
        if usable and not _may_use(store, saved, profiles):
            continue
        out.append(saved)
    return out


def _may_use(store: SettingsStore, saved: SavedAccount, profiles: frozenset[str]) -> bool:
    if saved.scope is Scope.PERSONAL:
        return True  # only its owner ever sees a personal account
    return saved.account.may_use(store.user, profiles)


def get_account(store: SettingsStore, name: str, scope: Scope | None = None) -> SavedAccount:
    """One account by name; without a scope the user's own comes before a global one."""
    scopes = (Scope.PERSONAL, Scope.GLOBAL) if scope is None else (scope,)
    for where in scopes:
        entry = store.entry(ACCOUNT, name, where)
        if entry is not None:
            return _saved(store, entry)
    known = ", ".join(sorted({e.name for e in store.entries(ACCOUNT)})) or _("none")
    raise ConfigError(
        _("there is no account {name}; saved accounts: {known}").format(name=name, known=known),
        setting="account",
    )


def save_account(
    store: SettingsStore,
    account: Account,
    scope: Scope,
    *,
    secrets: Mapping[str, Secret | None] | None = None,
    expected_revision: int | None = None,
) -> SavedAccount:
    """Save settings and any secrets given; an empty secret keeps the saved one (write-only)."""
    scope = Scope(scope)
    if scope is Scope.PERSONAL:
        account = account.replace(owner=store.user, default=False)
    given = {k: v for k, v in (secrets or {}).items() if v}
    unknown = set(given) - set(SECRET_FIELDS)
    if unknown:
        raise ConfigError(
            _("unknown secret field(s) {fields}; use {known}").format(
                fields=", ".join(sorted(unknown)), known=", ".join(SECRET_FIELDS)
            ),
            setting="secret",
        )
    with store.transaction() as db:
        entry = store.put(
            ACCOUNT,
            account.name,
            account_to_dict(account),
            scope,
            expected_revision=expected_revision,
            db=db,
        )
        if account.default and scope is Scope.GLOBAL:
            _clear_other_defaults(store, account.name, db)
        for field, secret in sorted(given.items()):
            assert secret is not None
            store.set_secret(account.name, scope, field, secret, db=db)
    return _saved(store, entry)


def _clear_other_defaults(store: SettingsStore, name: str, db: sqlite3.Connection) -> None:
    """Only one company account is the default."""
    for entry in store.entries(ACCOUNT, Scope.GLOBAL):
        if entry.name != name and entry.body.get("default"):
            body = dict(entry.body, default=False)
            store.put(ACCOUNT, entry.name, body, Scope.GLOBAL, db=db)


def remove_account(store: SettingsStore, name: str, scope: Scope) -> None:
    """Delete an account and its secrets; ConfigError if there is none."""
    if not store.delete(ACCOUNT, name, scope):
        raise ConfigError(
            _("there is no {scope} account {name}").format(scope=scope_label(scope), name=name),
            setting="account",
        )


def with_token(account: Account, token: Secret) -> Account:
    """An OAuth2 account logging in with ``token``, over SMTP and IMAP alike."""
    imap = account.imap.replace(oauth2=StaticToken(token)) if account.imap else None
    return account.replace(smtp=account.smtp.replace(oauth2=StaticToken(token)), imap=imap)


def account_for_sending(store: SettingsStore, name: str, scope: Scope | None = None) -> Account:
    """The account with its secrets filled in, if this user may use it; else ConfigError."""
    saved = get_account(store, name, scope)
    if not _may_use(store, saved, store.profiles()):
        raise ConfigError(
            _("user {user} may not send through account {name}; ask a mail manager").format(
                user=store.user, name=name
            ),
            setting="account.users",
        )
    if saved.missing:
        raise ConfigError(
            _("account {name} has no saved {fields}; enter it in the account settings").format(
                name=name, fields=", ".join(saved.missing)
            ),
            setting=saved.missing[0],
        )
    account = saved.account
    if account.auth is AuthMethod.OAUTH2:
        token = store.use_secret(name, saved.scope, TOKEN_FIELD)
        assert token is not None
        return with_token(account, token)
    smtp = account.smtp
    if smtp.username:
        smtp = smtp.replace(password=store.use_secret(name, saved.scope, "smtp.password"))
    imap = account.imap
    if imap is not None and imap.username:
        imap = imap.replace(password=store.use_secret(name, saved.scope, "imap.password"))
    return account.replace(smtp=smtp, imap=imap)
