"""``mailkit account`` (list, show, add, edit, remove) and ``mailkit test-connection``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from ..accounts import TOKEN_FIELD, Account, AuthMethod, account_to_dict
from ..addresses import parse_address
from ..config import (
    PROVIDER_PRESETS,
    DsnNotify,
    DsnOptions,
    ImapSettings,
    Secret,
    Security,
    SmtpSettings,
)
from ..diagnostics import Diagnosis, Step, diagnose_account, diagnose_smtp
from ..errors import ConfigError, DataError
from ..i18n import _
from ..labels import scope_label
from ..saved_accounts import (
    account_for_sending,
    get_account,
    list_accounts,
    remove_account,
    save_account,
)
from ..store import Scope, SettingsStore
from .common import EXIT_FINDINGS, EXIT_OK, out

__all__ = ["register"]

_SCOPES = [s.value for s in Scope]


def _store() -> SettingsStore:
    return SettingsStore()  # $MAILKIT_STORE, else ~/.local/share/mailkit/settings.sqlite3


def _ask(prompt: str, env: str | None = None) -> Secret:
    """A secret from ``$env`` or typed without echo; never printed."""
    if env:
        if not os.environ.get(env):
            raise ConfigError(_("the variable {name} is not set").format(name=env), setting=env)
        return Secret(os.environ[env])
    if not sys.stdin.isatty():
        raise ConfigError(
            _("cannot ask for a password without a terminal; use --password-env VARIABLE"),
            setting="password",
        )
    return Secret(getpass.getpass(prompt))


# -- account list/show/add/edit/remove ------------------------------------------------------


def _list(ns: argparse.Namespace) -> int:
    with _store() as store:
        scope = Scope(ns.scope) if ns.scope else None
        for saved in list_accounts(store, scope, text=ns.filter or ""):
            acc = saved.account
            flags = [scope_label(saved.scope)] + [
                label
                for on, label in ((acc.default, _("default")), (acc.integration, _("integration")))
                if on
            ]
            missing = (
                _(" missing: {fields}").format(fields=", ".join(saved.missing))
                if (saved.missing)
                else ""
            )
            out(
                f"{acc.name}\t{acc.address}\t{acc.smtp.host}:{acc.smtp.port}\t"
                f"{acc.owner or '-'}\t{', '.join(flags)}{missing}"
            )
    return EXIT_OK


def _show(ns: argparse.Namespace) -> int:
    with _store() as store:
        saved = get_account(store, ns.name, Scope(ns.scope) if ns.scope else None)
        for key, value in _flatten(account_to_dict(saved.account)):
            out(f"{key} = {value}")
        for field in saved.account.needs():
            who = saved.secrets.get(field)
            state = _("saved (entered by {user})").format(user=who) if who else _("not saved")
            out(f"{field} = ******** {state}" if who else f"{field} = {state}")
        out(
            _("scope = {scope}, revision {rev}, saved by {user} at {when}").format(
                scope=scope_label(saved.scope),
                rev=saved.revision,
                user=saved.updated_by,
                when=saved.updated_at,
            )
        )
    return EXIT_OK


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def _server_options(ns: argparse.Namespace, kind: str, old: Any) -> dict[str, Any]:
    """Settings of ``kind`` ('smtp'/'imap') from options, keeping ``old`` values not given."""
    values = {k: v for k, v in vars(old).items() if k not in ("password", "oauth2")} if old else {}
    for option in ("host", "port", "security", "user", "timeout_ms", "ca_bundle"):
        given = getattr(ns, f"{kind}_{option}", None)
        if given is not None:
            values["username" if option == "user" else option] = given
    if getattr(ns, f"{kind}_no_verify", False):
        values["verify_certificates"] = False
    if "security" in values and getattr(ns, f"{kind}_port", None) is None and old is not None:
        values["port"] = 0  # a new mode brings its default port
    return values


def _account_changes(ns: argparse.Namespace) -> dict[str, Any]:
    """The account's own settings given as options (its servers apart)."""
    changes: dict[str, Any] = {}
    for option in ("address", "sender_name", "reply_to", "cc", "bcc", "preset", "owner"):
        if getattr(ns, option) is not None:
            changes[option] = getattr(ns, option)
    for flag in ("default", "send_as", "integration", "copy_to_self"):
        if getattr(ns, flag) is not None:
            changes[flag] = getattr(ns, flag)
    if ns.auth is not None:
        changes["auth"] = AuthMethod(ns.auth)
    if ns.users is not None:
        changes["users"] = tuple(u.strip() for u in ns.users.split(",") if u.strip())
    if ns.dsn is not None:
        changes["dsn"] = DsnOptions(frozenset(DsnNotify(n) for n in ns.dsn))
    return changes


def _build(ns: argparse.Namespace, old: Account | None) -> Account:
    smtp = _server_options(ns, "smtp", old.smtp if old else None)
    if "host" not in smtp:
        raise ConfigError(_("--smtp-host is required"), setting="smtp.host")
    imap_old = old.imap if old else None
    imap = _server_options(ns, "imap", imap_old)
    for folder in ("sent_folder", "drafts_folder"):
        if getattr(ns, folder) is not None:
            imap[folder] = getattr(ns, folder)
    changes: dict[str, Any] = {"smtp": SmtpSettings(**smtp), **_account_changes(ns)}
    if "host" in imap:
        changes["imap"] = ImapSettings(**imap)
    if old is not None:
        return old.replace(**changes)
    if "address" not in changes:
        raise ConfigError(_("--address is required"), setting="account.address")
    return Account(ns.name, **changes)


def _secrets(ns: argparse.Namespace, account: Account, asked: bool) -> dict[str, Secret]:
    out_: dict[str, Secret] = {}
    if not asked:
        return out_
    for field in account.needs():
        prompt = (
            _("OAuth2 token of account {name}: ")
            if field == TOKEN_FIELD
            else _("Password for {field} of account {name}: ")
        ).format(field=field, name=account.name)
        out_[field] = _ask(prompt, ns.password_env)
    return out_


def _add(ns: argparse.Namespace) -> int:
    with _store() as store:
        account = _build(ns, None)
        ask = bool(account.needs()) and not ns.no_password
        saved = save_account(
            store, account, Scope(ns.scope), secrets=_secrets(ns, account, ask), expected_revision=0
        )
    out(
        _("account {name} saved ({scope})").format(
            name=saved.account.name, scope=scope_label(saved.scope)
        )
    )
    return EXIT_OK


def _edit(ns: argparse.Namespace) -> int:
    with _store() as store:
        current = get_account(store, ns.name, Scope(ns.scope))
        account = _build(ns, current.account)
        saved = save_account(
            store,
            account,
            current.scope,
            secrets=_secrets(ns, account, ns.password),
            expected_revision=current.revision,
        )
    out(
        _("account {name} saved ({scope})").format(
            name=saved.account.name, scope=scope_label(saved.scope)
        )
    )
    return EXIT_OK


def _remove(ns: argparse.Namespace) -> int:
    with _store() as store:
        remove_account(store, ns.name, Scope(ns.scope))
    out(_("account {name} removed").format(name=ns.name))
    return EXIT_OK


# -- test-connection --------------------------------------------------------------------------


def _print_step(step: Step) -> None:
    for line in step.lines():
        out(line)
    sys.stdout.flush()


def _test_connection(ns: argparse.Namespace) -> int:
    if ns.account:
        with _store() as store:
            account = account_for_sending(store, ns.account)
        results = asyncio.run(
            diagnose_account(
                account,
                send_test=ns.send_test,
                imap=not ns.no_imap,
                probe=ns.probe or (),
                on_step=_print_step,
            )
        )
    else:
        results = (asyncio.run(_ad_hoc(ns)),)
    ok = all(r.ok for r in results)
    out(_("connection test passed") if ok else _("connection test failed"))
    return EXIT_OK if ok else EXIT_FINDINGS


async def _ad_hoc(ns: argparse.Namespace) -> Diagnosis:
    if not ns.smtp_host or not ns.sender:
        raise ConfigError(_("give an ACCOUNT, or --smtp-host and --from"), setting="account")
    values = _server_options(ns, "smtp", None)
    if values.get("username"):
        values["password"] = _ask(
            _("Password for {user}: ").format(user=values["username"]), ns.password_env
        )
    try:
        sender = parse_address(ns.sender)
    except DataError as err:
        raise ConfigError(err.message, setting="from") from err
    return await diagnose_smtp(
        SmtpSettings(**values),
        sender,
        probe=ns.probe or (),
        send_test=ns.send_test,
        on_step=_print_step,
    )


def _account_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", help=_("the sender address (the seed's 'Adres nadawcy')"))
    p.add_argument("--sender-name", help=_("the name shown with the address"))
    for opt, text in (
        ("reply-to", _("where replies go (the seed's 'Odpowiedz do')")),
        ("cc", _("a copy of every message to these addresses (comma-separated)")),
        ("bcc", _("a hidden copy of every message to these addresses (comma-separated)")),
        ("preset", _("the sending limits of a provider: {names}").format(
            names=", ".join(sorted(PROVIDER_PRESETS)))),
        ("owner", _("the user responsible for the account")),
        ("users", _("who may send through it: user names or @profile, comma-separated; "
                    "empty: everyone")),
    ):  # fmt: skip
        p.add_argument(f"--{opt}", help=text)
    p.add_argument(
        "--auth",
        choices=[m.value for m in AuthMethod],
        help=_("how it logs in: a password (or an app password), or an OAuth2 token for an "
               "account with two-step verification"),
    )  # fmt: skip
    for kind in ("smtp", "imap"):
        p.add_argument(f"--{kind}-host")
        p.add_argument(f"--{kind}-port", type=int)
        p.add_argument(f"--{kind}-security", choices=[s.value for s in Security])
        p.add_argument(f"--{kind}-user", help=_("the login (usually the e-mail address)"))
        p.add_argument(f"--{kind}-timeout-ms", type=int)
        p.add_argument(f"--{kind}-ca-bundle", type=Path)
        p.add_argument(f"--{kind}-no-verify", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--sent-folder")
    p.add_argument("--drafts-folder")
    p.add_argument("--dsn", nargs="*", choices=[n.value for n in DsnNotify])
    for flag in ("default", "send-as", "integration", "copy-to-self"):
        p.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--password-env", help=_("read the password from this variable"))


def register(commands: Any) -> None:
    """Add ``account`` and ``test-connection``."""
    _register_account(commands)
    _register_test(commands)


def _register_account(commands: Any) -> None:
    acc = commands.add_parser("account", help=_("mail accounts: list, show, add, edit, remove"))
    sub = acc.add_subparsers(dest="action", required=True)
    p = sub.add_parser("list", help=_("list accounts"))
    p.add_argument("--scope", choices=_SCOPES)
    p.add_argument("--filter", help=_("text in name, owner, address, server, login or port"))
    p.set_defaults(handler=_list)
    p = sub.add_parser("show", help=_("show one account (never its password)"))
    p.add_argument("name")
    p.add_argument("--scope", choices=_SCOPES)
    p.set_defaults(handler=_show)
    for action, handler, text in (
        ("add", _add, _("add an account")),
        ("edit", _edit, _("edit an account")),
    ):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
        p.add_argument("--scope", choices=_SCOPES, default=Scope.PERSONAL.value)
        _account_options(p)
        if action == "add":
            p.add_argument("--no-password", action="store_true", help=_("enter it later"))
        else:
            p.add_argument("--password", action="store_true", help=_("enter a new password"))
        p.set_defaults(handler=handler)
    p = sub.add_parser("remove", help=_("remove an account and its saved password"))
    p.add_argument("name")
    p.add_argument("--scope", choices=_SCOPES, default=Scope.PERSONAL.value)
    p.set_defaults(handler=_remove)


def _register_test(commands: Any) -> None:
    test = commands.add_parser("test-connection", help=_("test SMTP and IMAP step by step"))
    test.add_argument("account", nargs="?", help=_("a saved account; or use --smtp-host"))
    test.add_argument(
        "--send-test",
        action="store_true",
        help=_("also send a test message to the sender and the CC/BCC"),
    )
    test.add_argument("--no-imap", action="store_true", help=_("test SMTP only"))
    test.add_argument("--probe", action="append", help=_("also try RCPT TO this address"))
    test.add_argument("--from", dest="sender", help=_("the sender address (ad-hoc test)"))
    for option, kind in (("host", str), ("port", int), ("user", str), ("timeout-ms", int)):
        test.add_argument(f"--smtp-{option}", type=kind)
    test.add_argument("--smtp-security", choices=[s.value for s in Security])
    test.add_argument("--smtp-ca-bundle", type=Path)
    test.add_argument("--password-env", help=_("read the password from this variable"))
    test.set_defaults(handler=_test_connection)
