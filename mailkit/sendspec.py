"""The job file's sending settings: [destination] kinds sink/smtp/drafts and [batch], strictly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .config import PROVIDER_PRESETS, DsnNotify, DsnOptions, ImapSettings, RateLimits, SmtpSettings
from .errors import ConfigError
from .i18n import _

if TYPE_CHECKING:
    from .job import _Section

__all__ = [
    "DESTINATION_KINDS",
    "BatchSpec",
    "CopyMode",
    "ServerSpec",
    "SinkSpec",
    "parse_batch",
    "parse_destination",
]

DESTINATION_KINDS = ("files", "memory", "sink", "smtp", "drafts")
DEFAULT_SINK_PORT = 2525


class CopyMode(StrEnum):
    """The seed's "send a copy to myself": not at all, by Bcc, or by IMAP APPEND to Sent."""

    NONE = "none"
    BCC = "bcc"
    IMAP = "imap"


@dataclass(frozen=True)
class SinkSpec:
    """The embedded local SMTP sink: Maildir ``folder``; ``port`` 0 = any free port."""

    folder: Path
    port: int = DEFAULT_SINK_PORT


@dataclass(frozen=True)
class ServerSpec:
    """A real server, without secrets: passwords come from ``*_password_env`` or a prompt."""

    smtp: SmtpSettings | None = None
    imap: ImapSettings | None = None
    password_env: str = ""  # the variable holding the SMTP password
    imap_password_env: str = ""  # the IMAP password's (default: the SMTP one)
    account: str = ""  # a saved account (mailkit.store) instead of smtp/imap and passwords


@dataclass(frozen=True)
class BatchSpec:
    """How a batch is sent: connections, limits, notifications, copies, journal."""

    id: str = ""  # '' = the job's name; a new id starts a new batch
    connections: int = 4
    limits: RateLimits | None = None  # None: the preset's, else RateLimits()
    preset: str = ""
    dsn: DsnOptions = field(default_factory=DsnOptions)
    copy_to_me: CopyMode = CopyMode.NONE
    retention_days: float = 30.0
    max_attempts: int = 5
    outbox: Path | None = None  # None: default_outbox_path()

    @property
    def rate_limits(self) -> RateLimits:
        """Own limits, else the preset's, else the defaults."""
        if self.limits is not None:
            return self.limits
        return PROVIDER_PRESETS.get(self.preset, RateLimits())


def _server(sec: _Section, kind: str, base: Path) -> dict[str, object]:
    # The same keys as a saved account's [smtp]/[imap]; imported here because accounts
    # imports job, which imports this module.
    from .accounts import _read_server  # noqa: PLC0415

    values = _read_server(sec, kind)
    ca = values.get("ca_bundle")
    if isinstance(ca, Path) and not ca.is_absolute():
        values["ca_bundle"] = base / ca
    return values


def parse_destination(kind: str, sec: _Section | None, base: Path) -> SinkSpec | ServerSpec | None:
    """Read the kind-specific keys of [destination]; unknown keys are errors."""
    if kind not in DESTINATION_KINDS:
        raise ConfigError(
            _("destination.kind must be one of {kinds}, not {kind!r}").format(
                kinds=", ".join(DESTINATION_KINDS), kind=kind
            ),
            setting="destination.kind",
        )
    if sec is None:
        return SinkSpec(base / "sink") if kind == "sink" else None
    if kind == "sink":
        folder = sec.get("folder", "sink")
        port = sec.get("port", DEFAULT_SINK_PORT, int)
        return SinkSpec(_resolve(base, folder), port)
    if kind not in ("smtp", "drafts"):
        return None
    smtp_sec, imap_sec = sec.section("smtp"), sec.section("imap")
    account = sec.get("account", "")
    if account:  # resolved from the settings store when the destination is opened
        if smtp_sec or imap_sec:
            raise ConfigError(
                _("destination.account names a saved account: leave out [destination.smtp/imap]"),
                setting="destination.account",
            )
        return ServerSpec(account=account)
    if kind == "smtp" and smtp_sec is None:
        raise ConfigError(
            _("destination.kind 'smtp' needs a [destination.smtp] section with host and port"),
            setting="destination.smtp",
        )
    if kind == "drafts" and imap_sec is None:
        raise ConfigError(
            _("destination.kind 'drafts' needs a [destination.imap] section"),
            setting="destination.imap",
        )
    return ServerSpec(
        smtp=SmtpSettings(**_server(smtp_sec, "smtp", base)) if smtp_sec else None,  # type: ignore[arg-type]
        imap=ImapSettings(**_server(imap_sec, "imap", base)) if imap_sec else None,  # type: ignore[arg-type]
        password_env=sec.get("password_env", ""),
        imap_password_env=sec.get("imap_password_env", ""),
    )


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _limits(sec: _Section | None) -> RateLimits | None:
    if sec is None:
        return None
    values = {f.name: sec.get(f.name, f.default, int) for f in dataclasses.fields(RateLimits)}
    sec.finish()
    return RateLimits(**values)


def _dsn(sec: _Section | None) -> DsnOptions:
    if sec is None:
        return DsnOptions()
    notify = sec.get("notify", [], list)
    ret = sec.get("ret", "HDRS")
    sec.finish()
    try:
        return DsnOptions(frozenset(DsnNotify(n) for n in notify), ret)
    except ValueError as err:
        raise ConfigError(
            _("batch.dsn.notify: use Never, None, OnFailure, OnSuccess or Delay"),
            setting="batch.dsn.notify",
        ) from err


def parse_batch(sec: _Section | None, base: Path) -> BatchSpec:
    """Read [batch]: id, connections, preset or [batch.limits], [batch.dsn], copy_to_me, ..."""
    if sec is None:
        return BatchSpec()
    preset = sec.get("preset", "")
    if preset and preset not in PROVIDER_PRESETS:
        raise ConfigError(
            _("unknown provider preset {preset}; use one of {presets}").format(
                preset=preset, presets=", ".join(sorted(PROVIDER_PRESETS))
            ),
            setting="batch.preset",
        )
    copy = sec.get("copy_to_me", "none")
    if copy not in set(CopyMode):
        raise ConfigError(
            _("batch.copy_to_me must be none, bcc or imap"), setting="batch.copy_to_me"
        )
    connections = sec.get("connections", 4, int)
    attempts = sec.get("max_attempts", 5, int)
    if connections < 1 or attempts < 1:
        raise ConfigError(
            _("batch.connections and batch.max_attempts must be at least 1"),
            setting="batch.connections" if connections < 1 else "batch.max_attempts",
        )
    outbox = sec.get("outbox")
    spec = BatchSpec(
        id=sec.get("id", ""),
        connections=connections,
        limits=_limits(sec.section("limits")),
        preset=preset,
        dsn=_dsn(sec.section("dsn")),
        copy_to_me=CopyMode(copy),
        retention_days=float(sec.get("retention_days", 30, (int, float))),
        max_attempts=attempts,
        outbox=_resolve(base, outbox) if outbox else None,
    )
    sec.finish()
    return spec
