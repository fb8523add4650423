"""Configuration bundles (TOML) for support: everything but the secrets."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .accounts import Account, account_from_dict, account_to_dict
from .catalog import (
    TEMPLATE,
    TYPE,
    CatalogTemplate,
    MessageType,
    save_template,
    save_type,
    template_from_dict,
    type_from_dict,
)
from .config import Secret
from .errors import ConfigError
from .i18n import _
from .saved_accounts import list_accounts, save_account
from .saved_jobs import list_jobs, save_job
from .store import Scope, SettingsStore

__all__ = [
    "BUNDLE_VERSION",
    "Bundle",
    "ImportResult",
    "SecretNeed",
    "export_bundle",
    "import_bundle",
    "missing_secrets",
    "read_bundle",
]

BUNDLE_VERSION = 1


@dataclass(frozen=True)
class Bundle:
    """A configuration read from a bundle file; each item keeps the scope it was exported from."""

    accounts: tuple[tuple[Scope, Account], ...] = ()
    templates: tuple[tuple[Scope, CatalogTemplate], ...] = ()
    types: tuple[tuple[Scope, MessageType], ...] = ()
    jobs: tuple[tuple[Scope, str, str], ...] = ()  # (scope, name, job TOML text)
    exported_by: str = ""
    exported_at: str = ""


@dataclass(frozen=True)
class SecretNeed:
    """A secret an imported account needs and this store has not got: ask the user for it."""

    account: str
    field: str  # 'smtp.password', 'imap.password' or 'oauth2.token'
    login: str
    host: str


@dataclass(frozen=True)
class ImportResult:
    """What an import saved, and which secrets are still missing."""

    accounts: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    still_missing: tuple[SecretNeed, ...] = field(default=())


def _scoped(scope: Scope, body: dict[str, Any]) -> dict[str, Any]:
    return {"scope": scope.value, **body}


def export_bundle(store: SettingsStore, path: str | Path | None = None) -> str:
    """The global settings and the user's own as TOML (no password, token or ciphertext)."""
    doc: dict[str, Any] = {
        "mailkit_bundle": BUNDLE_VERSION,
        "exported_by": store.user,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "accounts": [_scoped(s.scope, account_to_dict(s.account)) for s in list_accounts(store)],
        "types": [_scoped(e.scope, e.body) for e in store.entries(TYPE)],
        "templates": [_scoped(e.scope, e.body) for e in store.entries(TEMPLATE)],
        "jobs": [
            {"scope": job.scope.value, "name": job.name, "toml": job.toml}
            for job in list_jobs(store)
        ],
    }
    text = tomli_w.dumps(doc, multiline_strings=True)
    if path is not None:
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as err:
            raise ConfigError(
                _("cannot write {path}: {reason}").format(path=path, reason=err.strerror or err),
                setting="bundle",
            ) from err
    return text


def _scope_of(item: dict[str, Any], where: str) -> Scope:
    value = item.pop("scope", Scope.PERSONAL.value)
    try:
        return Scope(value)
    except ValueError as err:
        raise ConfigError(
            _("{where}.scope must be global or personal").format(where=where), setting=where
        ) from err


def _items(doc: dict[str, Any], key: str) -> list[tuple[Scope, dict[str, Any], str]]:
    out = []
    for i, raw in enumerate(doc.pop(key, [])):
        where = f"{key}[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(_("{where} must be a table").format(where=where), setting=where)
        item = dict(raw)
        out.append((_scope_of(item, where), item, where))
    return out


def read_bundle(source: str | Path) -> Bundle:
    """Read a bundle file (or its text); every problem is a ConfigError naming the entry."""
    try:
        text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
        doc = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(
            _("cannot read the bundle: {reason}").format(reason=err), setting="bundle"
        ) from err
    if doc.pop("mailkit_bundle", None) != BUNDLE_VERSION:
        raise ConfigError(
            _("this is not a mailkit configuration bundle (version {v})").format(v=BUNDLE_VERSION),
            setting="bundle",
        )
    jobs = []
    for scope, item, where in _items(doc, "jobs"):
        if not isinstance(item.get("name"), str) or not isinstance(item.get("toml"), str):
            raise ConfigError(_("{where} needs name and toml").format(where=where), setting=where)
        jobs.append((scope, item["name"], item["toml"]))
    return Bundle(
        accounts=tuple((s, account_from_dict(d, w)) for s, d, w in _items(doc, "accounts")),
        templates=tuple((s, template_from_dict(d, w)) for s, d, w in _items(doc, "templates")),
        types=tuple((s, type_from_dict(d, w)) for s, d, w in _items(doc, "types")),
        jobs=tuple(jobs),
        exported_by=str(doc.get("exported_by", "")),
        exported_at=str(doc.get("exported_at", "")),
    )


def _target(item_scope: Scope, scope: Scope | None) -> Scope:
    return item_scope if scope is None else Scope(scope)


def missing_secrets(
    store: SettingsStore, bundle: Bundle, scope: Scope | None = None
) -> list[SecretNeed]:
    """The secrets to ask for before or after importing ``bundle`` into ``scope``."""
    out = []
    for item_scope, account in bundle.accounts:
        where = _target(item_scope, scope)
        saved = store.secret_fields(account.name, where)
        for secret_field in account.needs():
            if secret_field not in saved:
                server = account.imap if secret_field.startswith("imap") else account.smtp
                host = server.host if server is not None else ""
                login = server.username if server is not None else ""
                out.append(SecretNeed(account.name, secret_field, login, host))
    return out


def import_bundle(
    store: SettingsStore,
    bundle: Bundle,
    scope: Scope | None = None,
    secrets: Mapping[tuple[str, str], Secret] | None = None,
) -> ImportResult:
    """Save everything in ``bundle`` (into ``scope``, or each item's own) with the secrets given.

    ``secrets`` maps (account, field) to a secret for the needs ``missing_secrets`` listed;
    saved secrets are kept when none is given. Global items need the manage right.
    """
    secrets = secrets or {}
    with store.transaction():  # all or nothing
        for item_scope, kind in bundle.types:
            save_type(store, kind, _target(item_scope, scope))
        for item_scope, template in bundle.templates:
            save_template(store, template, _target(item_scope, scope))
        for item_scope, account in bundle.accounts:
            given = {f: secrets.get((account.name, f)) for f in account.needs()}
            save_account(store, account, _target(item_scope, scope), secrets=given)
        for item_scope, name, text in bundle.jobs:
            save_job(store, name, text, _target(item_scope, scope))
    return ImportResult(
        accounts=tuple(a.name for _s, a in bundle.accounts),
        templates=tuple(t.name for _s, t in bundle.templates),
        types=tuple(t.name for _s, t in bundle.types),
        jobs=tuple(name for _s, name, _t in bundle.jobs),
        still_missing=tuple(missing_secrets(store, bundle, scope)),
    )
