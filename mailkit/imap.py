"""A small IMAP helper (IMAPClient, run in a thread): connect, folders, append, search, fetch.

Used for "copy to me" (APPEND to Sent), the Drafts mode, account checks and delivery evidence.
IMAPClient is synchronous; ``AsyncImap`` runs each call with ``asyncio.to_thread`` so the
kernel's event loop never blocks. IMAPClient encodes folder names (modified UTF-7, RFC 3501)
and redacts LOGIN/AUTHENTICATE in its debug log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import DRAFTS, SENT

from .config import ImapSettings, Security
from .errors import AuthError, ConfigError, ConnectError, SecurityError, TransportError
from .i18n import _

__all__ = ["AsyncImap", "Folder", "ImapClient", "append_uid"]

T = TypeVar("T")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")  # RFC 4315 (UIDPLUS)
# Names used when the server has no special-use flags (RFC 6154): English and Polish clients.
_FALLBACK = {
    "sent": ("Sent", "Sent Items", "Sent Messages", "Wysłane", "Elementy wysłane", "INBOX.Sent"),
    "drafts": ("Drafts", "Kopie robocze", "Wersje robocze", "INBOX.Drafts"),
}


@dataclass(frozen=True, slots=True)
class Folder:
    """A mailbox folder with its flags (``\\Sent``, ``\\Drafts``, ``\\Noselect``, ...)."""

    name: str
    flags: tuple[str, ...]
    delimiter: str


def append_uid(response: bytes | str) -> int | None:
    """The UID the server gave an appended message (UIDPLUS), if it said."""
    raw = response.encode() if isinstance(response, str) else response
    found = _APPENDUID.search(raw)
    return int(found.group(2)) if found else None


class ImapClient:
    """``with ImapClient(settings) as imap: imap.append(imap.special("sent"), data)``."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: IMAPClient | None = None

    @property
    def where(self) -> str:
        """'host:port' for messages."""
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def client(self) -> IMAPClient:
        """The connected IMAPClient; ConnectError when not connected."""
        if self._client is None:
            raise ConnectError(_("the IMAP connection is not open"), phase="connect")
        return self._client

    def connect(self) -> None:
        """Connect (TLS or required STARTTLS), then log in once; errors say what to fix."""
        s = self.settings
        if s.security is Security.NONE and s.host.lower() not in ("localhost", "127.0.0.1", "::1"):
            raise ConfigError(
                _("imap security 'none' is only for this computer"), setting="imap.security"
            )
        ctx = _tls_context(s)
        try:
            client = IMAPClient(
                s.host, s.port, ssl=s.security is Security.TLS, ssl_context=ctx, timeout=s.timeout
            )
            if s.security is Security.STARTTLS:
                client.starttls(ctx)
        except (ssl.SSLError, OSError, IMAPClientError) as err:
            raise _connect_error(self.where, s, err) from err
        self._client = client
        try:
            self._login(client)
        except BaseException:
            self.close()
            raise

    def _login(self, client: IMAPClient) -> None:
        s = self.settings
        if not s.username:
            return
        try:
            if s.oauth2 is not None:
                token = asyncio.run(s.oauth2.token())  # runs in a worker thread: no loop here
                client.oauth2_login(s.username, token)
            elif s.password is None:
                raise ConfigError(
                    _("imap user {user} needs a password").format(user=s.username),
                    setting="imap.password",
                )
            else:
                client.login(s.username, s.password.reveal())
        except LoginError as err:
            raise AuthError(
                _("{where} refused the IMAP login of user {user}: {reply}").format(
                    where=self.where, user=s.username, reply=_text(err)
                ),
                phase="auth",
            ) from err
        except (IMAPClientError, OSError) as err:  # e.g. no answer: a server delays bad logins
            raise _connect_error(self.where, s, err) from err

    def close(self) -> None:
        """Log out (or just close); safe to call twice."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            client.shutdown()

    def __enter__(self) -> ImapClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (IMAPClientError, OSError) as err:
            raise TransportError(
                _("IMAP {what} at {where} failed: {reason}").format(
                    what=what, where=self.where, reason=_text(err)
                ),
                phase=what,
            ) from err

    def folders(self) -> list[Folder]:
        """Every folder with its special-use and other flags."""
        listed = self._call("list", self.client.list_folders)
        return [
            Folder(name, tuple(_str(f) for f in flags), _str(delim or b""))
            for flags, delim, name in listed
        ]

    def special(self, use: str) -> str:
        """The folder for ``use`` ('sent' or 'drafts'): the setting, the RFC 6154 flag, a name."""
        configured = self.settings.sent_folder if use == "sent" else self.settings.drafts_folder
        if configured:
            return configured
        flag = _str(SENT if use == "sent" else DRAFTS)
        listed = self.folders()
        for folder in listed:
            if flag in folder.flags:
                return folder.name
        names = {f.name.casefold(): f.name for f in listed}
        for candidate in _FALLBACK[use]:
            if candidate.casefold() in names:
                return names[candidate.casefold()]
        raise ConfigError(
            _("{where} has no {use} folder; set imap.{use}_folder to its name").format(
                where=self.where, use=use
            ),
            setting=f"imap.{use}_folder",
        )

    def append(
        self,
        folder: str,
        data: bytes,
        *,
        flags: Sequence[str] = (),
        when: dt.datetime | None = None,
    ) -> int | None:
        """Store ``data`` in ``folder``; returns its UID when the server tells (UIDPLUS)."""
        response = self._call(
            "append", self.client.append, folder, data, flags=tuple(flags), msg_time=when
        )
        return append_uid(response)

    def select(self, folder: str, *, readonly: bool = True) -> dict[bytes, Any]:
        """Open ``folder`` for search and fetch."""
        return dict(self._call("select", self.client.select_folder, folder, readonly=readonly))

    def search(self, criteria: Any = "ALL") -> list[int]:
        """UIDs matching ``criteria`` (IMAPClient syntax, e.g. ``['HEADER', 'Message-ID', x]``)."""
        return list(self._call("search", self.client.search, criteria))

    def fetch(self, uids: Sequence[int], parts: Sequence[str]) -> dict[int, dict[bytes, Any]]:
        """``parts`` (e.g. 'RFC822', 'FLAGS', 'INTERNALDATE') of each UID."""
        return dict(self._call("fetch", self.client.fetch, list(uids), list(parts)))

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move messages (RFC 6851 MOVE, else COPY + \\Deleted + UID EXPUNGE); creates ``folder``.

        Needs the folder selected with ``readonly=False``.
        """
        if not uids:
            return
        client = self.client
        if not self._call("list", client.folder_exists, folder):
            self._call("create", client.create_folder, folder)
        if client.has_capability("MOVE"):
            self._call("move", client.move, list(uids), folder)
            return
        self._call("copy", client.copy, list(uids), folder)
        self._call("store", client.add_flags, list(uids), [b"\\Deleted"])
        self._call("expunge", client.uid_expunge, list(uids))


class AsyncImap:
    """The same helper for a running event loop: every call runs in a worker thread."""

    def __init__(self, settings: ImapSettings) -> None:
        self.sync = ImapClient(settings)
        self._lock = asyncio.Lock()

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self._lock:  # one IMAP connection: one command at a time
            return await asyncio.to_thread(fn, *args, **kwargs)

    async def connect(self) -> None:
        """Connect and log in."""
        await self._run(self.sync.connect)

    async def close(self) -> None:
        """Log out."""
        await self._run(self.sync.close)

    async def special(self, use: str) -> str:
        """See ``ImapClient.special``."""
        return await self._run(self.sync.special, use)

    async def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> int | None:
        """See ``ImapClient.append``."""
        return await self._run(self.sync.append, folder, data, flags=flags)

    async def __aenter__(self) -> AsyncImap:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _tls_context(settings: ImapSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(settings.ca_bundle) if settings.ca_bundle else None)
    if not settings.verify_certificates:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _connect_error(where: str, s: ImapSettings, err: BaseException) -> TransportError:
    if isinstance(err, ssl.SSLCertVerificationError):
        return SecurityError(
            _("the certificate of {where} is not trusted ({reason}); set ca_bundle if your "
              "company uses its own certificate authority").format(
                where=where, reason=err.verify_message or err.reason
            ),
            phase="tls",
        )  # fmt: skip
    if isinstance(err, ssl.SSLError):
        return SecurityError(
            _("TLS with {where} failed ({reason}) with security '{mode}'; port 993 needs 'tls', "
              "port 143 'starttls'").format(where=where, reason=err.reason or err, mode=s.security),
            phase="tls",
        )  # fmt: skip
    if isinstance(err, socket.timeout | TimeoutError):
        reason = _("no answer within {ms} ms").format(ms=s.timeout_ms)
    else:
        reason = _text(err)
    return ConnectError(
        _("cannot connect to the IMAP server {where}: {reason}").format(where=where, reason=reason),
        phase="connect",
    )


def _str(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _text(err: BaseException) -> str:
    return (str(err) or type(err).__name__).strip()
