"""Who a message is from: the user's own account, the company account, or the default sender."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from .accounts import Account
from .addresses import MailAddress, parse_address
from .errors import ConfigError, DataError
from .i18n import N_, _
from .job import Destination, Job, SenderSpec
from .saved_accounts import SavedAccount, list_accounts
from .sendspec import ServerSpec
from .store import Scope, SettingsStore

__all__ = [
    "BUILTIN_SENDER",
    "SenderIdentity",
    "SenderRule",
    "account_identity",
    "apply_identity",
    "default_sender",
    "resolve_sender",
    "set_default_sender",
    "set_user_address",
    "user_address",
]

# The sender used when nobody configured one; a manager sets the company's own (default_sender).
BUILTIN_SENDER = "mailkit <noreply@mailkit.example>"


class SenderRule(StrEnum):
    """Which rule chose the sender; preview shows it."""

    OWN_ACCOUNT = "own-account"  # 1. the user's own (per-agent) account
    COMPANY_ACCOUNT = "company-account"  # 2. the shared account, sending as the user
    COMPANY_REPLY_TO = "company-account-reply-to"  # 2. the shared account's From, user's Reply-To
    DEFAULT_SENDER = "default-sender"  # 3. the built-in sender, user's Reply-To


_EXPLAIN = {
    SenderRule.OWN_ACCOUNT: N_("Sent from your own account {account} as {sender}."),
    SenderRule.COMPANY_ACCOUNT: N_(
        "Sent through the company account {account} as {sender}; the account may send as "
        "other addresses."
    ),
    SenderRule.COMPANY_REPLY_TO: N_(
        "Sent from the company account {account} as {sender}: it may not send as other "
        "addresses, so replies go to {reply_to} (Reply-To)."
    ),
    SenderRule.DEFAULT_SENDER: N_(
        "Sent from the default sender {sender}: no account of yours or of the company is "
        "set up; replies go to {reply_to} (Reply-To)."
    ),
}


@dataclass(frozen=True)
class SenderIdentity:
    """The From, Reply-To and copies of a message, the account that sends it and why."""

    rule: SenderRule
    sender: MailAddress
    reply_to: tuple[MailAddress, ...] = ()
    cc: tuple[MailAddress, ...] = ()
    bcc: tuple[MailAddress, ...] = ()
    account: str | None = None  # None: the default destination (the built-in sender)
    scope: Scope | None = None

    def explain(self) -> str:
        """One sentence for the preview: which rule applied and what it means."""
        reply = ", ".join(str(a) for a in self.reply_to) or _("nobody (no address of yours)")
        return _(_EXPLAIN[self.rule]).format(
            account=self.account or "", sender=self.sender, reply_to=reply
        )


def _parse(text: str, setting: str, name: str = "") -> MailAddress:
    try:
        return parse_address(text, display_name=name)
    except DataError as err:
        raise ConfigError(
            _("{setting}: {reason}").format(setting=setting, reason=err.message), setting=setting
        ) from err


def user_address(store: SettingsStore) -> MailAddress | None:
    """The current user's own e-mail address (their profile), if they gave one."""
    text = store.pref("address")
    return _parse(text, "user.address", store.pref("display_name")) if text else None


def set_user_address(store: SettingsStore, address: str, name: str = "") -> None:
    """Save the current user's own address and display name (validated)."""
    if address:
        _parse(address, "user.address", name)
    store.set_pref("address", address)
    store.set_pref("display_name", name)


def default_sender(store: SettingsStore) -> MailAddress:
    """The company's default sender (a manager sets it), else the built-in one."""
    return _parse(store.pref("default_sender", BUILTIN_SENDER, shared=True), "default_sender")


def set_default_sender(store: SettingsStore, address: str) -> None:
    """Set the default sender for everyone (needs the "manage mail sending" right)."""
    _parse(address, "default_sender")
    store.set_pref("default_sender", address, shared=True)


def _pick(accounts: list[SavedAccount]) -> SavedAccount | None:
    ordered = sorted(accounts, key=lambda s: (not s.account.default, s.account.name))
    return ordered[0] if ordered else None


def _own(store: SettingsStore, usable: list[SavedAccount]) -> SavedAccount | None:
    personal = store.selected_scope() is Scope.PERSONAL
    mine = [s for s in usable if s.scope is Scope.PERSONAL and personal]
    mine = mine or [s for s in usable if s.scope is Scope.GLOBAL and s.account.owner == store.user]
    return _pick(mine)


def _company(store: SettingsStore, usable: list[SavedAccount]) -> SavedAccount | None:
    shared = [s for s in usable if s.scope is Scope.GLOBAL and s.account.owner != store.user]
    flagged = [s for s in shared if s.account.default]
    return _pick(flagged or (shared if len(shared) == 1 else []))


def _with_account(
    rule: SenderRule, saved: SavedAccount, sender: MailAddress, reply_to: tuple[MailAddress, ...]
) -> SenderIdentity:
    account: Account = saved.account
    return SenderIdentity(
        rule,
        sender,
        reply_to,
        account.cc_addresses(),
        account.bcc_addresses(),
        account.name,
        saved.scope,
    )


def resolve_sender(store: SettingsStore) -> SenderIdentity:
    """Apply the three rules in order for the current user and say which one applied."""
    usable = list_accounts(store, usable=True)
    chosen = _own(store, usable) or _company(store, usable)
    if chosen is not None:
        return account_identity(store, chosen)
    mine = user_address(store)
    reply_to = (mine,) if mine is not None else ()
    return SenderIdentity(SenderRule.DEFAULT_SENDER, default_sender(store), reply_to)


def account_identity(store: SettingsStore, saved: SavedAccount) -> SenderIdentity:
    """Sending through ``saved`` (the seed's "Sender" list): as the account's own address when
    it is the user's, else as the user where the company account may send as others, else as
    the account with the user's address as Reply-To."""
    acc = saved.account
    if saved.scope is Scope.PERSONAL or acc.owner == store.user:
        return _with_account(SenderRule.OWN_ACCOUNT, saved, acc.sender(), acc.reply_to_addresses())
    mine = user_address(store)
    if acc.send_as and mine is not None:
        return _with_account(SenderRule.COMPANY_ACCOUNT, saved, mine, ())
    reply = (mine,) if mine is not None else acc.reply_to_addresses()
    return _with_account(SenderRule.COMPANY_REPLY_TO, saved, acc.sender(), reply)


def _join(addresses: tuple[MailAddress, ...]) -> str:
    return ", ".join(str(a) for a in addresses)


def apply_identity(job: Job, identity: SenderIdentity) -> Job:
    """``job`` sending as ``identity``: its [sender] replaced, and the account as destination."""
    sender = identity.sender
    spec = SenderSpec(
        address=sender.addr_spec,
        name=sender.display_name,
        reply_to=_join(identity.reply_to),
        cc=_join(identity.cc),
        bcc=_join(identity.bcc),
    )
    destination = job.destination
    if identity.account is not None:
        destination = Destination("smtp", None, {}, ServerSpec(account=identity.account))
    return dataclasses.replace(job, sender=spec, destination=destination)
