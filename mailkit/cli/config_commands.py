"""``mailkit config`` (export, import), ``templates``, ``types`` and ``scope``."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from ..bundle import export_bundle, import_bundle, missing_secrets, read_bundle
from ..catalog import get_template, get_type, list_templates, list_types
from ..config import Secret
from ..errors import ConfigError
from ..i18n import _
from ..identity import (
    default_sender,
    resolve_sender,
    set_default_sender,
    set_user_address,
    user_address,
)
from ..labels import origin_label, scope_label
from ..store import Scope, SettingsStore
from .common import EXIT_OK, out

__all__ = ["register"]

_SCOPES = [s.value for s in Scope]


def _store() -> SettingsStore:
    return SettingsStore()  # $MAILKIT_STORE, else ~/.local/share/mailkit/settings.sqlite3


def _export(ns: argparse.Namespace) -> int:
    with _store() as store:
        export_bundle(store, ns.file)
    out(_("configuration written to {path} (no passwords in it)").format(path=ns.file))
    return EXIT_OK


def _import(ns: argparse.Namespace) -> int:
    bundle = read_bundle(Path(ns.file))
    scope = None if ns.scope == "keep" else Scope(ns.scope)
    with _store() as store:
        given = {}
        for need in missing_secrets(store, bundle, scope):
            prompt = _("{field} for {login} at {host} (account {name}; empty: later): ").format(
                field=need.field, login=need.login, host=need.host, name=need.account
            )
            secret = Secret(getpass.getpass(prompt)) if sys.stdin.isatty() else Secret("")
            if secret:
                given[(need.account, need.field)] = secret
        result = import_bundle(store, bundle, scope, given)
    out(
        _("imported {a} account(s), {t} template(s), {y} type(s), {j} job(s)").format(
            a=len(result.accounts), t=len(result.templates), y=len(result.types), j=len(result.jobs)
        )
    )
    for need in result.still_missing:
        out(
            _("still missing: {field} of account {name}").format(
                field=need.field, name=need.account
            )
        )
    return EXIT_OK


def _templates(ns: argparse.Namespace) -> int:
    with _store() as store:
        if ns.name:
            item = get_template(store, ns.name).item
            out(
                _("{name} ({type}, {lang}){default}").format(
                    name=item.name,
                    type=item.type,
                    lang=item.language,
                    default=_(", default") if item.default else "",
                )
            )
            out(_("Subject: {subject}").format(subject=item.subject))
            out(item.text.strip())
            if item.html:
                out(item.html)
            return EXIT_OK
        for t in list_templates(store, type=ns.type, language=ns.language, text=ns.filter or ""):
            mark = "*" if t.item.default else " "
            out(f"{mark} {t.item.name}\t{t.item.type}\t{t.item.language}\t{origin_label(t.origin)}")
    return EXIT_OK


def _types(ns: argparse.Namespace) -> int:
    with _store() as store:
        found = [get_type(store, ns.name)] if ns.name else list_types(store, text=ns.filter or "")
        for t in found:
            profiles = ", ".join(t.item.profiles) or _("everyone")
            out(f"{t.item.name}\t{t.item.label()}\t{origin_label(t.origin)}\t{profiles}")
    return EXIT_OK


def _scope(ns: argparse.Namespace) -> int:
    with _store() as store:
        if ns.choice:
            store.select_scope(Scope(ns.choice))
        out(
            _("user {user}: configuration scope {scope}").format(
                user=store.user, scope=scope_label(store.selected_scope())
            )
        )
        ident = resolve_sender(store)
        out(ident.explain())
    return EXIT_OK


def _me(ns: argparse.Namespace) -> int:
    with _store() as store:
        if ns.address is not None:
            set_user_address(store, ns.address, ns.name or "")
        mine = user_address(store)
        out(
            _("user {user}, address {address}, profiles {profiles}, may manage: {manage}").format(
                user=store.user,
                address=mine or "-",
                profiles=", ".join(sorted(store.profiles())) or "-",
                manage=_("yes") if store.can_manage() else _("no"),
            )
        )
    return EXIT_OK


def _users(ns: argparse.Namespace) -> int:
    if ns.action and not ns.user:
        raise ConfigError(_("users {action} needs a user name").format(action=ns.action))
    with _store() as store:
        if ns.action == "grant":
            store.grant(ns.user)
        elif ns.action == "revoke":
            store.revoke(ns.user)
        elif ns.action == "profiles":
            store.set_profiles(ns.user, {p.strip() for p in (ns.profiles or "").split(",")})
        elif ns.action == "default-sender":
            set_default_sender(store, ns.user)
        out(_("may manage mail sending: {users}").format(users=", ".join(store.managers())))
        out(_("default sender: {sender}").format(sender=default_sender(store)))
    return EXIT_OK


def register(commands: Any) -> None:
    """Add ``config export/import``, ``templates``, ``types`` and ``scope``."""
    conf = commands.add_parser("config", help=_("export or import a configuration bundle"))
    sub = conf.add_subparsers(dest="action", required=True)
    p = sub.add_parser("export", help=_("write accounts (no passwords), templates, types, jobs"))
    p.add_argument("file")
    p.set_defaults(handler=_export)
    p = sub.add_parser("import", help=_("read a bundle, asking only for missing passwords"))
    p.add_argument("file")
    p.add_argument("--scope", choices=["keep", *_SCOPES], default=Scope.PERSONAL.value)
    p.set_defaults(handler=_import)

    for name, handler, text in (
        ("templates", _templates, _("list templates, or show one")),
        ("types", _types, _("list message types, or show one")),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("name", nargs="?")
        p.add_argument("--filter")
        if name == "templates":
            p.add_argument("--type")
            p.add_argument("--language", choices=("pl", "en"))
        p.set_defaults(handler=handler)

    p = commands.add_parser("scope", help=_("show or choose global or personal settings"))
    p.add_argument("choice", nargs="?", choices=_SCOPES)
    p.set_defaults(handler=_scope)

    p = commands.add_parser("me", help=_("show or set your own address (Reply-To, send-as)"))
    p.add_argument("--address")
    p.add_argument("--name")
    p.set_defaults(handler=_me)

    p = commands.add_parser("users", help=_("who may manage mail sending; profiles"))
    p.add_argument("action", nargs="?", choices=("grant", "revoke", "profiles", "default-sender"))
    p.add_argument("user", nargs="?", help=_("a user name (default-sender: an address)"))
    p.add_argument("profiles", nargs="?", help=_("comma-separated profiles, e.g. kadry,finanse"))
    p.set_defaults(handler=_users)
