"""From a job's [destination] to transports: the one place where a destination is built."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import DsnOptions, ImapSettings, Secret, Security, SmtpSettings
from .errors import ConfigError, ConnectError
from .i18n import _
from .job import Job
from .saved_accounts import account_for_sending, get_account
from .sendspec import ServerSpec, SinkSpec
from .sink import Sink, is_mailkit_sink
from .store import SettingsStore
from .transports.base import Capabilities, Transport
from .transports.drafts import DraftsTransport
from .transports.file import FileTransport
from .transports.memory import MemoryTransport
from .transports.smtp import SmtpTransport

__all__ = [
    "Passwords",
    "Target",
    "open_destination",
    "passwords_from_env",
    "server_settings",
    "with_account_batch",
]


@dataclass(frozen=True)
class Passwords:
    """Secrets for one run, from the environment or a prompt; never stored in the job."""

    smtp: Secret | None = field(default=None, repr=False)
    imap: Secret | None = field(default=None, repr=False)


@dataclass
class Target:
    """An opened destination: makes one transport per connection and knows what it accepts."""

    kind: str
    where: str
    transports: list[Transport]  # made so far (the memory destination keeps its one)
    smtp: SmtpSettings | None = None
    imap: ImapSettings | None = None
    capabilities: Capabilities | None = None  # from EHLO; None when there is no server to ask
    sink: Sink | None = None
    folder: Path | None = None
    dsn: DsnOptions | None = None  # delivery notifications to ask for (RFC 3461)

    @property
    def real(self) -> bool:
        """True when messages leave this computer: sending needs an explicit confirmation."""
        return self.kind in ("smtp", "drafts")

    @property
    def account(self) -> str:
        """Whose sending limits apply: 'user@host' ('' for local destinations)."""
        if self.kind != "smtp" or self.smtp is None:
            return ""
        return f"{self.smtp.username or '-'}@{self.smtp.host}"

    def new_transport(self) -> Transport:
        """A fresh transport for one more connection."""
        made: Transport
        if self.kind == "memory":
            made = self.transports[0] if self.transports else MemoryTransport()
        elif self.kind == "files":
            assert self.folder is not None
            made = FileTransport(self.folder)
        elif self.kind == "drafts":
            assert self.imap is not None
            made = DraftsTransport(self.imap)
        else:
            assert self.smtp is not None
            made = SmtpTransport(self.smtp, dsn=self.dsn)
        if made not in self.transports:
            self.transports.append(made)
        return made


def passwords_from_env(job: Job, environ: dict[str, str] | None = None) -> Passwords:
    """The passwords the job's destination names by environment variable (``password_env``)."""
    env = os.environ if environ is None else environ
    spec = job.destination.spec
    if not isinstance(spec, ServerSpec):
        return Passwords()
    smtp = env.get(spec.password_env) if spec.password_env else None
    imap = env.get(spec.imap_password_env) if spec.imap_password_env else smtp
    return Passwords(Secret(smtp) if smtp else None, Secret(imap) if imap else None)


def with_account_batch(job: Job, store: SettingsStore | None = None) -> Job:
    """``job`` with its saved account's rate limits and delivery notifications where [batch]
    sets none (no limits or preset, no dsn.notify); a job naming no account is returned as is."""
    spec = job.destination.spec
    if not isinstance(spec, ServerSpec) or not spec.account:
        return job
    if store is None:
        with SettingsStore() as own:
            return with_account_batch(job, own)
    account = get_account(store, spec.account).account
    batch = job.batch
    own_limits = batch.limits is not None or bool(batch.preset)
    batch = dataclasses.replace(
        batch,
        limits=batch.limits if own_limits else account.rate_limits,
        dsn=batch.dsn if batch.dsn.notify else account.dsn,
    )
    return dataclasses.replace(job, batch=batch)


def server_settings(
    job: Job, passwords: Passwords
) -> tuple[SmtpSettings | None, ImapSettings | None]:
    """The destination's SMTP and IMAP settings with this run's passwords filled in."""
    spec = job.destination.spec
    if not isinstance(spec, ServerSpec):
        return None, None
    if spec.account:  # a saved account: settings and secrets come from the store
        with SettingsStore() as store:
            account = account_for_sending(store, spec.account)
        return account.smtp, account.imap
    smtp, imap = spec.smtp, spec.imap
    if smtp is not None and smtp.username and smtp.oauth2 is None:
        if passwords.smtp is None:
            raise ConfigError(
                _(
                    "the password of smtp user {user} is missing: set the environment variable "
                    "{env} or enter it when asked"
                ).format(user=smtp.username, env=spec.password_env or "-"),
                setting="destination.password_env",
            )
        smtp = smtp.replace(password=passwords.smtp)
    if imap is not None and imap.username and passwords.imap is not None:
        imap = imap.replace(password=passwords.imap)
    return smtp, imap


async def _start_sink(spec: SinkSpec) -> tuple[Sink | None, SmtpSettings]:
    """The embedded sink on its port; a sink already listening there (``mailkit sink``) is used."""
    sink = Sink(spec.folder, port=spec.port)
    try:
        await sink.start()
    except ConnectError:
        if not spec.port:
            raise
        return None, SmtpSettings(host="127.0.0.1", port=spec.port, security=Security.NONE)
    return sink, SmtpSettings(host="127.0.0.1", port=sink.port, security=Security.NONE)


async def _local_sink(smtp: SmtpSettings) -> bool:
    """An account pointing at the mailkit sink on this computer (no login, no TLS): nothing
    leaves, so it is a sink destination and sending there needs no confirmation."""
    if smtp.security is not Security.NONE or smtp.username or smtp.oauth2 is not None:
        return False
    return await is_mailkit_sink(smtp.host, smtp.port, min(smtp.timeout, 2.0))


async def _probe(target: Target) -> None:
    """Open one connection to learn SIZE/DSN/SMTPUTF8 and check the login before rendering."""
    transport = target.new_transport()
    try:
        await transport.open()
        target.capabilities = transport.capabilities
    finally:
        await transport.close()
        target.transports.remove(transport)


@contextlib.asynccontextmanager
async def open_destination(
    job: Job, passwords: Passwords | None = None, *, probe: bool = True
) -> AsyncIterator[Target]:
    """``async with open_destination(job) as target``: sink started, login checked, closed after.

    Raises AuthError, SecurityError or ConfigError at once; a ConnectError from the probe is
    not raised: the batch then pauses and retries, and the rows stay queued.
    """
    dest = job.destination
    kind = dest.kind
    if kind in ("files", "memory"):
        folder = dest.folder or job.base / "out"
        yield Target(kind, str(folder) if kind == "files" else "memory", [], folder=folder)
        return
    sink = None
    if kind == "sink":
        spec = dest.spec if isinstance(dest.spec, SinkSpec) else SinkSpec(job.base / "sink")
        sink, local = await _start_sink(spec)
        target = Target(
            "sink", f"sink {spec.folder}", [], smtp=local, sink=sink, folder=spec.folder
        )
    else:
        smtp, imap = server_settings(job, passwords or passwords_from_env(job))
        where = f"{smtp.host}:{smtp.port}" if smtp else f"IMAP {imap.host if imap else ''}"
        target = Target(kind, where, [], smtp=smtp, imap=imap)
        if kind == "smtp" and smtp is not None and await _local_sink(smtp):
            target.kind, target.where = "sink", f"sink {smtp.host}:{smtp.port}"
    target.dsn = job.batch.dsn
    try:
        if probe:
            with contextlib.suppress(ConnectError):
                await _probe(target)
        yield target
    finally:
        if sink is not None:
            await sink.stop()
