"""The app's account form in plain values: to an Account and back, secrets for a test, the sink."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .accounts import TOKEN_FIELD, Account, AuthMethod, account_from_dict, account_to_dict
from .config import Secret, Security, SmtpSettings
from .errors import ConfigError
from .i18n import _
from .saved_accounts import SavedAccount, get_account, list_accounts, save_account, with_token
from .store import Scope, SettingsStore

__all__ = [
    "SINK_ACCOUNT",
    "account_from_form",
    "account_with_secrets",
    "blank_form",
    "ensure_sink_account",
    "form_values",
    "secret_field",
]

SINK_ACCOUNT = "Local test sink"


def blank_form() -> dict[str, Any]:
    """The values of an empty form: a new account (STARTTLS on 587, certificates verified)."""
    return {
        "name": "",
        "address": "",
        "sender_name": "",
        "reply_to": "",
        "cc": "",
        "bcc": "",
        "dsn": [],
        "preset": "",
        "owner": "",
        "users": [],
        "auth": "password",
        "integration": False,
        "smtp": {"host": "", "port": 587, "security": "starttls", "username": "",
                 "timeout_ms": 30_000, "verify_certificates": True},
        "imap": {"host": "", "port": 993, "security": "tls", "username": "", "timeout_ms": 30_000,
                 "verify_certificates": True, "sent_folder": "", "drafts_folder": ""},
    }  # fmt: skip


def form_values(account: Account) -> dict[str, Any]:
    """What the form shows for a saved account (never a secret): ``account_to_dict`` with an
    IMAP part even when the account has none, so that the form can be filled in."""
    values = account_to_dict(account)
    values.setdefault("imap", blank_form()["imap"])
    return values


def account_from_form(values: Mapping[str, Any]) -> Account:
    """The Account the form describes; ConfigError names the setting that is wrong.

    An IMAP part without a server is left out; limits are kept only without a preset.
    """
    data = {k: v for k, v in values.items() if v is not None}
    for kind in ("smtp", "imap"):
        part = dict(data.get(kind) or {})
        if not str(part.get("ca_bundle") or "").strip():
            part.pop("ca_bundle", None)
        data[kind] = part
    if not str(data["imap"].get("host", "")).strip():
        data.pop("imap")
    if data.get("preset") or not data.get("limits"):
        data.pop("limits", None)
    if not str(data.get("name", "")).strip():
        raise ConfigError(_("give the account a name"), setting="account.name")
    return account_from_dict(data, "account")  # the settings' prefix, not a word to translate


def secret_field(kind: str, auth: str) -> str | None:
    """The secret a server's password box holds: 'smtp.password', 'imap.password', or with
    OAuth2 the token in the SMTP box (it serves IMAP too, so the IMAP box holds none)."""
    if auth == AuthMethod.OAUTH2.value:
        return TOKEN_FIELD if kind == "smtp" else None
    return f"{kind}.password"


def account_with_secrets(
    store: SettingsStore, account: Account, scope: Scope, typed: Mapping[str, Secret]
) -> Account:
    """``account`` as the form has it, with passwords to test it: the typed ones, else those
    saved for this account (when this user may use them); the IMAP login falls back on the
    SMTP password, as most providers use one password for both."""
    saved: SavedAccount | None = None
    if account.name in {s.account.name for s in list_accounts(store, scope)}:
        saved = get_account(store, account.name, scope)

    def secret(field: str) -> Secret | None:
        if typed.get(field):
            return typed[field]
        if saved is not None and field in saved.secrets:
            if not saved.account.may_use(store.user, store.profiles()):
                return None
            return store.use_secret(account.name, scope, field)
        return None

    if account.auth is AuthMethod.OAUTH2:
        token = secret(TOKEN_FIELD)
        return with_token(account, token) if token is not None else account
    smtp_password = secret("smtp.password")
    smtp = account.smtp.replace(password=smtp_password) if account.smtp.username else account.smtp
    imap = account.imap
    if imap is not None and imap.username:
        imap = imap.replace(password=secret("imap.password") or smtp_password)
    return account.replace(smtp=smtp, imap=imap)


def ensure_sink_account(
    store: SettingsStore, port: int, address: str, sender_name: str = ""
) -> SavedAccount:
    """The account that sends to the local sink on 127.0.0.1:``port`` (no login, no secret),
    made on first use: shared when this user manages mail sending, else personal (and then
    the personal configuration is chosen, so that the sender rules find it)."""
    for saved in list_accounts(store):
        if saved.account.name == SINK_ACCOUNT:
            if saved.account.smtp.port == port or (
                saved.scope is Scope.GLOBAL and not store.can_manage()
            ):
                return saved
            smtp = saved.account.smtp.replace(port=port)
            return save_account(store, saved.account.replace(smtp=smtp), saved.scope)
    account = Account(
        name=SINK_ACCOUNT,
        address=address,
        sender_name=sender_name,
        smtp=SmtpSettings(host="127.0.0.1", port=port, security=Security.NONE, timeout_ms=5000),
        preset="local-sink",
        owner=store.user,
    )
    if store.can_manage():
        return save_account(store, account, Scope.GLOBAL)
    store.select_scope(Scope.PERSONAL)
    return save_account(store, account, Scope.PERSONAL)
