"""Server settings as immutable values, validated when built and changed by copy (``replace``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError
from .i18n import _

__all__ = [
    "DEFAULT_PORTS",
    "LOCAL_HOSTS",
    "PROVIDER_PRESETS",
    "DsnNotify",
    "DsnOptions",
    "ImapSettings",
    "RateLimits",
    "Secret",
    "Security",
    "SmtpSettings",
    "TokenProvider",
]

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Secret:
    """A password or token that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; call only where it is handed to a server or a cipher."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")  # never into caches, queues or files


class Security(StrEnum):
    """How the connection is protected: never opportunistic."""

    NONE = "none"  # plain text: localhost and tests only, never with a password
    STARTTLS = "starttls"  # plain, then STARTTLS required before anything else
    TLS = "tls"  # TLS from the first byte ("SMTPS", port 465 / IMAPS 993)


DEFAULT_PORTS = {
    "smtp": {Security.STARTTLS: 587, Security.TLS: 465, Security.NONE: 25},
    "imap": {Security.STARTTLS: 143, Security.TLS: 993, Security.NONE: 143},
}


class TokenProvider(Protocol):
    """Gives a fresh OAuth2 access token for XOAUTH2 (refreshing it when it has expired)."""

    async def token(self) -> str:
        """A valid access token."""
        ...


def _check_endpoint(kind: str, host: str, port: int, security: Security, has_login: bool) -> None:
    if not host or any(c.isspace() for c in host):
        raise ConfigError(
            _("{kind} host is missing or has spaces").format(kind=kind), setting=f"{kind}.host"
        )
    if not 0 < port < 65536:
        raise ConfigError(
            _("{kind} port {port} is not a port number").format(kind=kind, port=port),
            setting=f"{kind}.port",
        )
    if security is Security.NONE and has_login and host.lower() not in LOCAL_HOSTS:
        raise ConfigError(
            _(
                "{kind} security 'none' would send the password to {host} in clear text; use "
                "'starttls' (port {starttls}) or 'tls' (port {tls})"
            ).format(
                kind=kind,
                host=host,
                starttls=DEFAULT_PORTS[kind][Security.STARTTLS],
                tls=DEFAULT_PORTS[kind][Security.TLS],
            ),
            setting=f"{kind}.security",
        )


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach an SMTP server. Certificates are verified unless told otherwise."""

    host: str
    port: int = 0  # 0: the default port of ``security``
    security: Security = Security.STARTTLS
    username: str = ""
    password: Secret | None = field(default=None, repr=False, compare=False)
    oauth2: TokenProvider | None = field(default=None, repr=False, compare=False)
    timeout_ms: int = 30_000
    verify_certificates: bool = True
    ca_bundle: Path | None = None
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        security = Security(self.security)
        object.__setattr__(self, "security", security)
        if not self.port:
            object.__setattr__(self, "port", DEFAULT_PORTS["smtp"][security])
        _check_endpoint("smtp", self.host, self.port, security, bool(self.username))
        if self.timeout_ms < 100:
            raise ConfigError(
                _("smtp timeout is in milliseconds; {ms} ms is too short").format(
                    ms=self.timeout_ms
                ),
                setting="smtp.timeout_ms",
            )
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise ConfigError(
                _("the CA bundle {path} does not exist").format(path=self.ca_bundle),
                setting="smtp.ca_bundle",
            )

    @property
    def timeout(self) -> float:
        """The timeout in seconds, as socket libraries take it."""
        return self.timeout_ms / 1000

    def replace(self, **changes: Any) -> SmtpSettings:
        """A validated copy with ``changes``."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ImapSettings:
    """How to reach the account's IMAP server, and which folders hold sent mail and drafts."""

    host: str
    port: int = 0
    security: Security = Security.TLS
    username: str = ""
    password: Secret | None = field(default=None, repr=False, compare=False)
    oauth2: TokenProvider | None = field(default=None, repr=False, compare=False)
    timeout_ms: int = 30_000
    verify_certificates: bool = True
    ca_bundle: Path | None = None
    sent_folder: str = ""  # '' = find it by its \\Sent special-use flag (RFC 6154)
    drafts_folder: str = ""

    def __post_init__(self) -> None:
        security = Security(self.security)
        object.__setattr__(self, "security", security)
        if not self.port:
            object.__setattr__(self, "port", DEFAULT_PORTS["imap"][security])
        _check_endpoint("imap", self.host, self.port, security, bool(self.username))

    @property
    def timeout(self) -> float:
        """The timeout in seconds."""
        return self.timeout_ms / 1000

    def replace(self, **changes: Any) -> ImapSettings:
        """A validated copy with ``changes``."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RateLimits:
    """Client-side limits for one account; 0 means no limit."""

    per_minute: int = 0
    per_hour: int = 0
    per_day: int = 0
    recipients_per_message: int = 0
    connections: int = 4

    def __post_init__(self) -> None:
        for name in ("per_minute", "per_hour", "per_day", "recipients_per_message"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    _("limits.{name} cannot be negative").format(name=name),
                    setting=f"limits.{name}",
                )
        if self.connections < 1:
            raise ConfigError(
                _("limits.connections must be at least 1"), setting="limits.connections"
            )


# Published provider limits (2026); a server's own 421/4.7.x replies still pause a batch.
PROVIDER_PRESETS = {
    "gmail": RateLimits(per_day=2000, recipients_per_message=100, connections=3),
    "google-workspace": RateLimits(per_day=2000, recipients_per_message=100, connections=3),
    "exchange-online": RateLimits(
        per_minute=30, per_day=10_000, recipients_per_message=500, connections=3
    ),
    "local-sink": RateLimits(connections=8),
}


class DsnNotify(StrEnum):
    """The seed's delivery-notification choices (RFC 3461 NOTIFY)."""

    NONE = "None"  # ask for nothing: no NOTIFY parameter, the server's default applies
    NEVER = "Never"  # NOTIFY=NEVER
    ON_FAILURE = "OnFailure"  # NOTIFY=FAILURE
    ON_SUCCESS = "OnSuccess"  # NOTIFY=SUCCESS
    DELAY = "Delay"  # NOTIFY=DELAY


_NOTIFY = {
    DsnNotify.NEVER: "NEVER",
    DsnNotify.ON_FAILURE: "FAILURE",
    DsnNotify.ON_SUCCESS: "SUCCESS",
    DsnNotify.DELAY: "DELAY",
}


@dataclass(frozen=True)
class DsnOptions:
    """Which delivery notifications to ask for; several seed choices may be combined."""

    notify: frozenset[DsnNotify] = frozenset()
    ret: str = "HDRS"  # return only the headers in a notification (RFC 3461 RET)

    def __post_init__(self) -> None:
        notify = frozenset(DsnNotify(n) for n in self.notify)
        object.__setattr__(self, "notify", notify)
        if DsnNotify.NEVER in notify and len(notify) > 1:
            raise ConfigError(
                _("dsn: 'Never' cannot be combined with other notifications"), setting="dsn.notify"
            )
        if self.ret not in ("HDRS", "FULL"):
            raise ConfigError(_("dsn.ret must be HDRS or FULL"), setting="dsn.ret")

    @property
    def requested(self) -> bool:
        """True when any NOTIFY parameter is to be sent (only where the server offers DSN)."""
        return any(n is not DsnNotify.NONE for n in self.notify)  # no enum hashing per message

    def notify_param(self) -> str | None:
        """The RCPT TO parameter value, e.g. 'FAILURE,DELAY', or None."""
        values = sorted(_NOTIFY[n] for n in self.notify if n in _NOTIFY)
        return ",".join(values) or None
