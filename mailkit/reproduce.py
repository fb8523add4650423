"""Support: rebuild a customer's configuration from an exported bundle and find why sending fails.

``open_bundle`` reads the bundle into a private, temporary settings store (support's own
settings are never touched); the missing secrets are entered and the bundle imported; the
connection test runs for an account; a bundled job is opened and one row previewed. A
``StandIn`` is a real local SMTP server (STARTTLS, AUTH) for a rehearsal without network.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import tempfile
import threading
import tomllib
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from secrets import token_urlsafe
from typing import Any, Self

from .accounts import Account, AuthMethod
from .bundle import Bundle, ImportResult, SecretNeed, import_bundle, missing_secrets, read_bundle
from .config import Secret, Security
from .diagnostics import Diagnosis, diagnose_account
from .diagnostics.steps import OnStep
from .errors import ConfigError
from .i18n import _
from .job import parse_job
from .merge import Merge, prepare
from .preview import Format, preview
from .saved_accounts import account_for_sending
from .secrets import KEY_DIR_ENV, Keys
from .signing import local_certificate
from .sink import Sink, quiet_tls_failures
from .store import SettingsStore, current_user

__all__ = ["Reproduction", "StandIn", "open_bundle"]

STOP_SECONDS = 10.0  # the longest the stand-in may take to start or stop

log = logging.getLogger(__name__)


class Reproduction:
    """A bundle opened into a private store in its own temporary folder; ``close`` removes it."""

    def __init__(self, bundle: Bundle, source: str, folder: Path) -> None:
        self.bundle = bundle
        self.source = source
        self.folder = folder
        weakref.finalize(self, shutil.rmtree, folder, True)  # also if never closed
        keys = Keys(current_user(), env={KEY_DIR_ENV: str(folder / "keys")})
        self.store = SettingsStore(folder / "settings.sqlite3", keys=keys)
        self.result: ImportResult | None = None

    def contents(self) -> list[dict[str, str]]:
        """What the bundle holds, one row per item: kind (account, type, template or job, as in
        the bundle file), name, scope and the main settings."""
        rows = []
        for scope, a in self.bundle.accounts:
            s = a.smtp
            login = s.username or _("no login")
            where = f"{a.address}; smtp {s.host}:{s.port} ({s.security.value}), {login}"
            rows.append(_row("account", a.name, scope.value, where))
        for scope, t in self.bundle.types:
            rows.append(_row("type", t.name, scope.value, t.label()))
        for scope, tpl in self.bundle.templates:
            rows.append(_row("template", tpl.name, scope.value, f"{tpl.type}: {tpl.subject}"))
        for scope, name, _text in self.bundle.jobs:
            rows.append(_row("job", name, scope.value, ""))
        return rows

    def needs(self) -> list[SecretNeed]:
        """The secrets still to be entered (none are in a bundle)."""
        return missing_secrets(self.store, self.bundle)

    def import_secrets(self, given: Mapping[tuple[str, str], Secret]) -> ImportResult:
        """Import the whole bundle (each item into its own scope) with the secrets ``given``
        for (account, field); empty ones are left out and stay missing."""
        wanted = {(n.account, n.field) for n in self.needs()}
        unknown = sorted(f"{a} {f}" for a, f in given if (a, f) not in wanted)
        if unknown:
            raise ConfigError(
                _("no secret is needed for {what}; needed: {needed}").format(
                    what=", ".join(unknown),
                    needed=", ".join(f"{a} {f}" for a, f in sorted(wanted)) or _("none"),
                ),
                setting="secret",
            )
        self.result = import_bundle(
            self.store, self.bundle, None, {k: v for k, v in given.items() if v}
        )
        return self.result

    def account(self, name: str = "") -> Account:
        """An imported account with its secrets filled in, ready for the connection test."""
        if self.result is None:
            raise ConfigError(
                _("import the bundle (with the missing secrets) before testing an account"),
                setting="bundle",
            )
        return account_for_sending(self.store, name or self.first_account())

    def first_account(self) -> str:
        """The name of the bundle's first account."""
        if not self.bundle.accounts:
            raise ConfigError(_("the bundle holds no account"), setting="bundle")
        return self.bundle.accounts[0][1].name

    async def diagnose(
        self, account: Account, *, imap: bool = True, on_step: OnStep | None = None
    ) -> tuple[Diagnosis, ...]:
        """The connection test (the app's "Test SMTP"/"Test IMAP"); nothing is sent."""
        return await diagnose_account(account, imap=imap, on_step=on_step)

    def open_job(self, name: str, folder: str | Path) -> Merge:
        """A bundled job, prepared; its relative paths start from ``folder`` (where the
        customer's job file was, with its data and templates)."""
        jobs = {n: text for _s, n, text in self.bundle.jobs}
        if name not in jobs:
            raise ConfigError(
                _("the bundle has no job {name}; its jobs: {known}").format(
                    name=name, known=", ".join(sorted(jobs)) or _("none")
                ),
                setting="job",
            )
        try:
            doc = tomllib.loads(jobs[name])
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(
                _("job {name} is not valid TOML: {reason}").format(name=name, reason=err),
                setting="job",
            ) from err
        return prepare(parse_job(doc, path=Path(folder).resolve() / "job.toml"))

    def preview(self, merge: Merge, key: str = "", fmt: Format = "text") -> str:
        """Row ``key`` (default: the first) as the recipient sees it."""
        keys = merge.keys()
        if not keys:
            raise ConfigError(_("the job has no row to preview"), setting="job")
        return preview(merge, key or keys[0], fmt)

    def close(self) -> None:
        """Close the private store and remove its folder (keys and secrets included)."""
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _row(kind: str, name: str, scope: str, details: str) -> dict[str, str]:
    return {"kind": kind, "name": name, "scope": scope, "details": details}


def open_bundle(path: str | Path) -> Reproduction:
    """Read the bundle at ``path`` into a new private store; ConfigError naming the problem."""
    bundle = read_bundle(Path(path))
    folder = Path(tempfile.mkdtemp(prefix="mailkit-support-"))
    try:
        return Reproduction(bundle, str(path), folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


class StandIn:
    """A real SMTP server on 127.0.0.1 standing in for an account's server in a rehearsal:
    STARTTLS with its own certificate, AUTH for the account's login with a fresh password.

    ``start()``/``stop()`` (or ``with``); it runs on its own thread, so it serves while a
    notebook cell or ``asyncio.run`` tests it. Messages sent to it stay in its folder.
    """

    def __init__(self, account: Account) -> None:
        smtp = account.smtp
        if account.auth is not AuthMethod.PASSWORD or not smtp.username:
            raise ConfigError(
                _("account {name}: the stand-in takes a password login only").format(
                    name=account.name
                ),
                setting="smtp.username",
            )
        if smtp.security is not Security.STARTTLS:
            raise ConfigError(
                _("account {name}: the stand-in speaks STARTTLS only, not {security}").format(
                    name=account.name, security=smtp.security.value
                ),
                setting="smtp.security",
            )
        self.name = account.name
        self.login = smtp.username
        self.password = Secret(token_urlsafe(18))
        self.folder = Path(tempfile.mkdtemp(prefix="mailkit-stand-in-"))
        weakref.finalize(self, shutil.rmtree, self.folder, True)  # also if never stopped
        self.certificate, key = local_certificate(self.folder / "tls")
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.certificate, key)
        self.sink = Sink(self.folder / "mail", tls=tls, users={self.login: self.password.reveal()})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._unquiet: Callable[[], None] | None = None

    @property
    def port(self) -> int:
        """Where it listens (0 until started)."""
        return self.sink.port

    def secrets(self) -> dict[tuple[str, str], Secret]:
        """The password to enter for the account, as ``Reproduction.import_secrets`` takes it."""
        return {(self.name, "smtp.password"): self.password}

    def point(self, account: Account, *, trusted: bool = True) -> Account:
        """``account`` sent to the stand-in: host and port changed, every other setting kept;
        ``trusted`` sets the stand-in's certificate as the CA bundle (else it stays as it is)."""
        if self._loop is None:
            raise ConfigError(_("start the stand-in first"), setting="stand-in")
        changes: dict[str, Any] = {"host": "127.0.0.1", "port": self.port}
        if trusted:
            changes["ca_bundle"] = self.certificate
        return account.replace(smtp=account.smtp.replace(**changes))

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port); TransportError when it cannot."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="mailkit-stand-in", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        self._unquiet = quiet_tls_failures()
        try:
            asyncio.run_coroutine_threadsafe(self.sink.start(), loop).result(STOP_SECONDS)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop listening, end its thread and remove its folder (within a bounded time)."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and thread is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.sink.stop(), loop).result(STOP_SECONDS)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(STOP_SECONDS)
                if not thread.is_alive():
                    loop.close()
        if self._unquiet is not None:
            self._unquiet()
            self._unquiet = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
