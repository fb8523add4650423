"""Mail accounts as the seeds' settings windows show them: sender, SMTP, IMAP, copies, limits."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .addresses import MailAddress, parse_address, parse_address_list
from .config import (
    PROVIDER_PRESETS,
    DsnNotify,
    DsnOptions,
    ImapSettings,
    RateLimits,
    Security,
    SmtpSettings,
)
from .errors import ConfigError, DataError
from .i18n import _
from .job import _Section
from .text import single_line_problem

__all__ = ["TOKEN_FIELD", "Account", "AuthMethod", "account_from_dict", "account_to_dict"]

_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")
TOKEN_FIELD = "oauth2.token"  # noqa: S105 - a field name: an OAuth2 account's one secret


class AuthMethod(StrEnum):
    """How the account logs in: a password (or app password) or an OAuth2 token."""

    PASSWORD = "password"  # noqa: S105 (a method name, not a password)
    OAUTH2 = "oauth2"


@dataclass(frozen=True)
class Account:
    """One mailbox to send from; holds no secret unless the store filled one in for sending."""

    name: str
    address: str
    smtp: SmtpSettings
    imap: ImapSettings | None = None
    owner: str = ""  # the user responsible for it (a personal account: its user)
    sender_name: str = ""
    reply_to: str = ""
    cc: str = ""  # default CC for every message, comma separated (the seed's "DW")
    bcc: str = ""  # default BCC (the seed's "UDW")
    copy_to_self: bool = False  # the seed's "send a copy to myself"
    dsn: DsnOptions = field(default_factory=DsnOptions)
    limits: RateLimits | None = None  # None: the preset's, or no limit
    preset: str = ""
    auth: AuthMethod = AuthMethod.PASSWORD
    integration: bool = False  # the seed's "use for integration"
    send_as: bool = False  # the server lets it send with other From addresses
    default: bool = False  # the company account for users without their own
    users: tuple[str, ...] = field(default=())  # who may use it: user names, '@profile'; () = all

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or self.name != self.name.strip():
            raise ConfigError(
                _("the account name must be 1 to 80 characters on one line"),
                setting="account.name",
            )
        object.__setattr__(self, "auth", AuthMethod(self.auth))
        object.__setattr__(self, "users", tuple(u.strip() for u in self.users if u.strip()))
        self.sender()  # validates address and sender name
        for setting in ("reply_to", "cc", "bcc"):
            _addresses(getattr(self, setting), setting)
        if self.preset and self.preset not in PROVIDER_PRESETS:
            raise ConfigError(
                _("unknown provider preset {preset}; use one of {presets}").format(
                    preset=self.preset, presets=", ".join(sorted(PROVIDER_PRESETS))
                ),
                setting="account.preset",
            )

    def sender(self) -> MailAddress:
        """The account's own From address with its sender name."""
        problem = single_line_problem(self.sender_name)
        if problem:
            raise ConfigError(
                _("account.sender_name: {problem}").format(problem=problem),
                setting="account.sender_name",
            )
        return _address(self.address, "address", self.sender_name)

    def reply_to_addresses(self) -> tuple[MailAddress, ...]:
        """The account's Reply-To, parsed."""
        return _addresses(self.reply_to, "reply_to")

    def cc_addresses(self) -> tuple[MailAddress, ...]:
        """Default CC, with the sender itself when ``copy_to_self`` is on."""
        own = (self.sender(),) if self.copy_to_self else ()
        return (*_addresses(self.cc, "cc"), *own)

    def bcc_addresses(self) -> tuple[MailAddress, ...]:
        """Default BCC."""
        return _addresses(self.bcc, "bcc")

    @property
    def rate_limits(self) -> RateLimits:
        """Own limits, else the provider preset's, else none."""
        if self.limits is not None:
            return self.limits
        return PROVIDER_PRESETS.get(self.preset, RateLimits())

    def may_use(self, user: str, profiles: frozenset[str] = frozenset()) -> bool:
        """Whether ``user`` (with ``profiles``) may send through this account."""
        if not self.users:
            return True
        return user in self.users or any(f"@{p}" in self.users for p in profiles)

    def needs(self) -> tuple[str, ...]:
        """The secret fields this account needs to log in (e.g. 'smtp.password')."""
        if self.auth is AuthMethod.OAUTH2:
            return (TOKEN_FIELD,)
        out = ["smtp.password"] if self.smtp.username else []
        if self.imap is not None and self.imap.username:
            out.append("imap.password")
        return tuple(out)

    def replace(self, **changes: Any) -> Account:
        """A validated copy with ``changes``."""
        return dataclasses.replace(self, **changes)


def _address(text: str, setting: str, name: str = "") -> MailAddress:
    try:
        return parse_address(text, display_name=name)
    except DataError as err:
        raise ConfigError(
            _("account.{setting}: {reason}").format(setting=setting, reason=err.message),
            setting=f"account.{setting}",
        ) from err


def _addresses(text: str, setting: str) -> tuple[MailAddress, ...]:
    try:
        return parse_address_list(text)
    except DataError as err:
        raise ConfigError(
            _("account.{setting}: {reason}").format(setting=setting, reason=err.message),
            setting=f"account.{setting}",
        ) from err


def _server_dict(server: SmtpSettings | ImapSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": server.security.value,
        "username": server.username,
        "timeout_ms": server.timeout_ms,
        "verify_certificates": server.verify_certificates,
    }
    if server.ca_bundle is not None:
        out["ca_bundle"] = str(server.ca_bundle)
    if isinstance(server, ImapSettings):
        out["sent_folder"] = server.sent_folder
        out["drafts_folder"] = server.drafts_folder
    return out


def account_to_dict(account: Account) -> dict[str, Any]:
    """The account as plain data (TOML/JSON), without any secret."""
    out: dict[str, Any] = {
        "name": account.name,
        "owner": account.owner,
        "address": account.address,
        "sender_name": account.sender_name,
        "reply_to": account.reply_to,
        "cc": account.cc,
        "bcc": account.bcc,
        "copy_to_self": account.copy_to_self,
        "dsn": sorted(n.value for n in account.dsn.notify),
        "dsn_return": account.dsn.ret,
        "preset": account.preset,
        "auth": account.auth.value,
        "integration": account.integration,
        "send_as": account.send_as,
        "default": account.default,
        "users": list(account.users),
        "smtp": _server_dict(account.smtp),
    }
    if account.imap is not None:
        out["imap"] = _server_dict(account.imap)
    if account.limits is not None:
        out["limits"] = dataclasses.asdict(account.limits)
    return out


def _read_server(sec: _Section, kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "host": sec.require("host"),
        "port": sec.get("port", 0, int),
        "security": _security(sec),
        "username": sec.get("username", ""),
        "timeout_ms": sec.get("timeout_ms", 30_000, int),
        "verify_certificates": sec.get("verify_certificates", True, bool),
    }
    ca = sec.get("ca_bundle")
    if ca:
        values["ca_bundle"] = Path(ca).expanduser()
    if kind == "imap":
        values["sent_folder"] = sec.get("sent_folder", "")
        values["drafts_folder"] = sec.get("drafts_folder", "")
    sec.finish()
    return values


def _security(sec: _Section) -> Security:
    text = sec.get("security", "starttls" if sec.where.endswith("smtp") else "tls")
    try:
        return Security(text)
    except ValueError as err:
        raise ConfigError(
            _("{setting} must be none, starttls or tls, not {value!r}").format(
                setting=sec.name("security"), value=text
            ),
            setting=sec.name("security"),
        ) from err


def _dsn(sec: _Section) -> DsnOptions:
    notify = sec.get("dsn", [], list)
    try:
        return DsnOptions(frozenset(DsnNotify(n) for n in notify), sec.get("dsn_return", "HDRS"))
    except ValueError as err:
        raise ConfigError(
            _("{setting}: use Never, None, OnFailure, OnSuccess or Delay").format(
                setting=sec.name("dsn")
            ),
            setting=sec.name("dsn"),
        ) from err


def account_from_dict(data: Mapping[str, Any], where: str = "account") -> Account:
    """Build an Account from plain data; every problem is a ConfigError naming the setting."""
    sec = _Section(data, where)
    smtp_sec = sec.section("smtp")
    if smtp_sec is None:
        raise ConfigError(
            _("{setting} is required").format(setting=sec.name("smtp")), setting=sec.name("smtp")
        )
    imap_sec = sec.section("imap")
    limits_sec = sec.section("limits")
    limits = None
    if limits_sec is not None:
        limits = RateLimits(
            **{
                f.name: limits_sec.get(f.name, f.default, int)
                for f in dataclasses.fields(RateLimits)
            }
        )
        limits_sec.finish()
    account = Account(
        name=sec.require("name"),
        address=sec.require("address"),
        smtp=SmtpSettings(**_read_server(smtp_sec, "smtp")),
        imap=ImapSettings(**_read_server(imap_sec, "imap")) if imap_sec else None,
        owner=sec.get("owner", ""),
        sender_name=sec.get("sender_name", ""),
        reply_to=sec.get("reply_to", ""),
        cc=sec.get("cc", ""),
        bcc=sec.get("bcc", ""),
        copy_to_self=sec.get("copy_to_self", False, bool),
        dsn=_dsn(sec),
        limits=limits,
        preset=sec.get("preset", ""),
        auth=_auth(sec),
        integration=sec.get("integration", False, bool),
        send_as=sec.get("send_as", False, bool),
        default=sec.get("default", False, bool),
        users=tuple(str(u) for u in sec.get("users", [], list)),
    )
    sec.finish()
    return account


def _auth(sec: _Section) -> AuthMethod:
    text = sec.get("auth", "password")
    try:
        return AuthMethod(text)
    except ValueError as err:
        raise ConfigError(
            _("{setting} must be password or oauth2").format(setting=sec.name("auth")),
            setting=sec.name("auth"),
        ) from err
