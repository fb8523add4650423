"""The embedded local SMTP sink (aiosmtpd on 127.0.0.1): captures every message to a Maildir."""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import logging
import mailbox
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .errors import ConfigError, TransportError
from .i18n import _

__all__ = [
    "Captured",
    "Sink",
    "is_mailkit_sink",
    "list_messages",
    "quiet_tls_failures",
    "read_message",
    "serve_sink",
]

log = logging.getLogger(__name__)

_SERVER_LOG = "mail.log"  # where aiosmtpd logs its sessions


class _ExpectedTlsFailure(logging.Filter):
    """A client refusing the sink's certificate (a rehearsal of an untrusted server): one line
    in mailkit's log instead of aiosmtpd's traceback, and no aiosmtpd-internal warning on
    every login."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Session.login_data is deprecated"):
            return False
        failed = record.exc_info[1] if record.exc_info else None
        if type(failed).__name__ == "TLSSetupException":
            log.info("sink: a client gave up during STARTTLS (it did not trust the certificate)")
            return False
        return True


def quiet_tls_failures() -> Callable[[], None]:
    """Keep expected STARTTLS refusals out of the server log; call the result to undo."""
    server_log, quiet = logging.getLogger(_SERVER_LOG), _ExpectedTlsFailure()
    server_log.addFilter(quiet)
    return lambda: server_log.removeFilter(quiet)


ENVELOPE_HEADER = "X-Mailkit-Envelope-To"  # the envelope, Bcc included, as Mailpit shows it
SIZE_LIMIT = 50 * 1024 * 1024
_HOSTNAME, _IDENT = "mailkit-sink", "mailkit sink"
GREETING = f"220 {_HOSTNAME} {_IDENT}"  # how the sink greets (aiosmtpd: 220 hostname ident)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)


@dataclass(frozen=True, slots=True)
class Captured:
    """One captured message, as a list shows it."""

    id: str
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    date: str
    size: int


class _Handler:
    """Stores each message with its envelope in front (Return-Path, envelope recipients)."""

    def __init__(self, folder: Path, users: Mapping[str, str]) -> None:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            self.box = _maildir(folder)
        except OSError as err:
            raise ConfigError(
                _("cannot create the sink folder {folder}: {reason}").format(
                    folder=folder, reason=err.strerror or err
                ),
                setting="destination.folder",
            ) from err
        self.users = dict(users)
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        head = (
            f"Return-Path: <{envelope.mail_from}>\r\n"
            f"{ENVELOPE_HEADER}: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        data = head + bytes(envelope.original_content or b"")
        try:
            try:
                self.box.add(data)
            except FileNotFoundError:  # the folder was removed while the sink ran
                self.box = _maildir(Path(self.box._path))
                self.box.add(data)
        except OSError as err:
            log.error("the sink cannot store a message: %s", err)
            return "451 4.3.0 cannot store the message now"
        self.count += 1
        return "250 2.0.0 captured"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            self.users.get(data.login.decode(errors="replace"))
            == data.password.decode(errors="replace")
        )
        # handled=False makes aiosmtpd answer a real 535 (RELIABILITY.md)
        return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)


def _maildir(folder: Path) -> mailbox.Maildir:
    """The Maildir at ``folder`` with its tmp/new/cur, also when the folder itself exists."""
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    return mailbox.Maildir(folder, create=False)


class Sink:
    """``async with Sink(folder) as sink:`` listens on 127.0.0.1:``sink.port`` until closed.

    ``tls`` (a server SSLContext) offers STARTTLS; ``users`` (login -> password) turns on AUTH
    PLAIN/LOGIN, offered only after STARTTLS as a real server would.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        users: Mapping[str, str] | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(_("the sink listens on this computer only"), setting="sink.host")
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self.tls = tls
        self.handler = _Handler(self.folder, users or {})
        self._server: asyncio.AbstractServer | None = None

    def _protocol(self) -> SMTP:
        return SMTP(
            self.handler,
            hostname=_HOSTNAME,
            ident=_IDENT,
            data_size_limit=SIZE_LIMIT,
            enable_SMTPUTF8=True,
            tls_context=self.tls,
            require_starttls=self.tls is not None,
            authenticator=self.handler.authenticate if self.handler.users else None,
            auth_required=bool(self.handler.users),
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        """Listen; TransportError when the port is taken."""
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._protocol, self.host, self.port)
        except OSError as err:
            raise TransportError(
                _("the sink cannot listen on {host}:{port}: {reason}").format(
                    host=self.host, port=self.port, reason=err.strerror or err
                ),
                phase="connect",
            ) from err
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("sink listening on %s:%s, capturing to %s", self.host, self.port, self.folder)

    async def stop(self) -> None:
        """Stop listening and close open sessions."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            if hasattr(server, "close_clients"):
                server.close_clients()
            await server.wait_closed()

    async def __aenter__(self) -> Sink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve_sink(sink: Sink, stop: asyncio.Event) -> None:
    """Run ``sink`` until ``stop`` is set (the ``mailkit sink`` command)."""
    async with sink:
        await stop.wait()


async def is_mailkit_sink(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when ``host:port`` is on this computer and greets as the mailkit sink: messages
    sent there are captured, none leaves (so sending there needs no confirmation)."""
    if host not in _LOOPBACK:
        return False
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
        writer.write(b"QUIT\r\n")
        await writer.drain()
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return line.decode("ascii", "replace").rstrip("\r\n") == GREETING


def list_messages(folder: str | Path) -> list[Captured]:
    """Every captured message, oldest first."""
    if not (Path(folder) / "cur").is_dir():
        return []
    box = mailbox.Maildir(Path(folder), create=False)
    found = []
    for key in box.iterkeys():
        with box.get_file(key) as fh:
            head = _HEADERS.parse(fh)  # type: ignore[arg-type]
            fh.seek(0, 2)
            size = fh.tell()
        rcpts = str(head.get(ENVELOPE_HEADER, ""))
        found.append(
            Captured(
                key,
                str(head.get("Return-Path", "")).strip("<>"),
                tuple(r.strip() for r in rcpts.split(",") if r.strip()),
                str(head.get("Subject", "")),
                str(head.get("Message-ID", "")),
                str(head.get("Date", "")),
                size,
            )
        )
    return sorted(found, key=lambda c: _order(c.id))


def _order(key: str) -> tuple[int, int, str]:
    """Maildir names start with seconds and '.M' microseconds: sort them as numbers."""
    seconds, _dot, rest = key.partition(".")
    micro = rest[1:].split("P", 1)[0] if rest.startswith("M") else "0"
    return (int(seconds) if seconds.isdigit() else 0, int(micro) if micro.isdigit() else 0, key)


def read_message(folder: str | Path, message_id: str, *, envelope: bool = True) -> bytes:
    """The captured bytes of ``message_id`` (a list id), with or without the envelope lines."""
    box = mailbox.Maildir(Path(folder), create=False)
    try:
        raw = box.get_bytes(message_id)
        return raw if envelope else raw.split(b"\r\n", 2)[2]
    except KeyError as err:
        raise ConfigError(
            _("the sink has no message {id}").format(id=message_id), setting="id"
        ) from err
