"""A fault-injecting SMTP server (aiosmtpd) on 127.0.0.1 for tests: chosen replies, drops, stalls.

Usage::

    with FaultServer(tls="starttls", users={"ala": "sekret"}) as server:
        server.handler.replies["DATA"] = ["451 4.3.0 try again later"]  # next DATA only
        server.handler.refuse["bad@example.com"] = "550 5.1.1 no such user"
        ...  # send to server.host:server.port, trusting server.ca_bundle
    assert [s.message_id for s in server.stored] == [...]

The server runs in its own thread and event loop, so a test may drive the client with
``asyncio.run`` or from a subprocess. Every attribute of ``FaultHandler`` is read per command,
so a test can change the behaviour while the server runs. What the server stored (envelope,
bytes, Message-ID) is in ``server.stored``; every command it saw is counted in
``server.handler.commands``. Facts this relies on (see RELIABILITY.md): an aiosmtpd
authenticator returning ``AuthResult(success=False)`` must set ``handled=False`` to send a
real 535; ``auth_require_tls`` defaults to True; any handler attribute named ``auth_*`` is
advertised as a mechanism.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import re
import shutil
import ssl
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["FaultHandler", "FaultServer", "Stored", "test_ca"]

HOST = "127.0.0.1"
START_TIMEOUT = 10.0  # seconds to wait for the server thread to listen
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
_DSN_PARAMS = ("NOTIFY", "ORCPT", "RET", "ENVID")


@functools.cache
def test_ca() -> trustme.CA:
    """One throw-away certificate authority per test session (never trusted by the system)."""
    return trustme.CA()


test_ca.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, when imported


@dataclass(frozen=True)
class Stored:
    """One message the server accepted with 250 to DATA (or stored before dropping)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()
    login: str | None = None

    @property
    def message_id(self) -> str | None:
        """The Message-ID header of the stored bytes."""
        found = _MESSAGE_ID.search(self.data)
        return found.group(1).decode("ascii") if found else None


@dataclass
class FaultHandler:
    """What the server does; tests change these attributes at any time.

    - ``greeting``: None for a normal 220; ``"stall"`` never greets; any other text is sent as
      the greeting reply and the connection is closed (e.g. ``"421 4.3.2 busy"``).
    - ``replies``: per command (``"MAIL"``, ``"RCPT"``, ``"DATA"``), replies used one per
      command before normal behaviour resumes.
    - ``refuse``: RCPT address -> reply, every time that address is given.
    - ``max_recipients``: RCPT beyond this many in one transaction gets ``452 4.5.3``.
    - ``drop``: queue of ``"before_dot"`` (close after 354 and a line of the message) or
      ``"after_dot"`` (store the message, then close without replying) for the next DATAs.
    - ``stall``: per command, seconds to wait before answering (queue, one per command).
    - ``users``: login -> password for PLAIN/LOGIN; ``tokens``: valid XOAUTH2 bearer tokens.
    - ``dsn``, ``smtputf8``, ``pipelining``, ``size``: extensions advertised in EHLO.
    """

    greeting: str | None = None
    replies: dict[str, list[str]] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)
    max_recipients: int | None = None
    drop: list[str] = field(default_factory=list)
    stall: dict[str, list[float]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    dsn: bool = False
    smtputf8: bool = True
    pipelining: bool = True
    size: int | None = 10_000_000
    stored: list[Stored] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, login), no secret
    pipelined: list[bool] = field(default_factory=list)  # per MAIL: RCPT already in the buffer

    def _next(self, table: dict[str, list[Any]], command: str) -> Any:
        queue = table.get(command)
        return queue.pop(0) if queue else None

    async def _before(self, command: str) -> str | None:
        self.commands[command] += 1
        delay = self._next(self.stall, command)
        if delay:
            await asyncio.sleep(delay)
        reply: str | None = self._next(self.replies, command)
        return reply

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.commands["EHLO"] += 1
        session.host_name = hostname
        keep = [r for r in responses[:-1] if not r.startswith(("250-SIZE", "250-SMTPUTF8"))]
        if self.size:
            keep.append(f"250-SIZE {self.size}")
        for flag, name in ((self.smtputf8, "SMTPUTF8"), (self.dsn, "DSN")):
            if flag:
                keep.append(f"250-{name}")
        if self.pipelining:
            keep.append("250-PIPELINING")
        return [*keep, responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        buffered = getattr(server._reader, "_buffer", b"")  # the client did not wait for 250
        self.pipelined.append(b"RCPT" in bytes(buffered).upper())
        reply = await self._before("MAIL")
        if reply:
            return reply
        if "SMTPUTF8" in options and not self.smtputf8:
            return "555 5.5.4 SMTPUTF8 is not offered here"
        if not self.dsn and any(o.startswith(_DSN_PARAMS) for o in options):
            return "555 5.5.4 MAIL FROM parameters not recognized"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = await self._before("RCPT")
        if reply:
            return reply
        if address in self.refuse:
            return self.refuse[address]
        if self.max_recipients is not None and len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        if not address.isascii() and not (self.smtputf8 and envelope.smtp_utf8):
            return "553 5.6.7 non-ASCII address without SMTPUTF8"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._before("DATA")
        if reply:
            return reply
        raw = envelope.original_content or b""
        self.stored.append(
            Stored(
                str(envelope.mail_from),
                tuple(envelope.rcpt_tos),
                bytes(raw),
                tuple(envelope.mail_options),
                tuple(envelope.rcpt_options),
                _login_of(session),
            )
        )
        if self.drop and self.drop[0] == "after_dot":
            self.drop.pop(0)
            assert server.transport is not None
            server.transport.abort()  # the message is stored; the reply is lost
        return "250 2.0.0 OK queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """PLAIN/LOGIN check; a refusal must be ``handled=False`` to send a real 535."""
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.commands["AUTH"] += 1
        self.logins.append((mechanism, login))
        if self.users.get(login) == password:
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """XOAUTH2 (advertised because of its name): ``user=..^Aauth=Bearer TOKEN^A^A``."""
        self.commands["AUTH"] += 1
        raw = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(p.split("=", 1) for p in raw.split("\x01") if "=" in p)
        self.logins.append(("XOAUTH2", fields.get("user", "")))
        token = fields.get("auth", "").removeprefix("Bearer ")
        if token in self.tokens:
            return AuthResult(success=True, auth_data=LoginPassword(fields["user"].encode(), b""))
        return AuthResult(success=False, handled=False, message="535 5.7.8 token rejected")


class _FaultSMTP(SMTP):
    """aiosmtpd's SMTP with greeting faults, drops before the dot and DSN parameters."""

    handler: FaultHandler

    async def _handle_client(self) -> None:
        greeting = self.handler.greeting
        if greeting == "stall":
            await asyncio.sleep(3600)  # cancelled when the client or the server goes
            return
        if greeting:
            await self.push(greeting)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    async def push(self, status: str) -> None:
        await super().push(status)
        if status.startswith("421") and self.transport is not None:
            self.transport.close()  # RFC 5321 3.8: nothing is said after a 421

    async def smtp_DATA(self, arg: str) -> None:
        drop = self.handler.drop
        if drop and drop[0] == "before_dot" and self.envelope and self.envelope.rcpt_tos:
            drop.pop(0)
            self.handler.commands["DATA"] += 1
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            with contextlib.suppress(Exception):  # the first line of the message, then the drop
                await asyncio.wait_for(self._reader.readline(), 5)
            assert self.transport is not None
            self.transport.abort()
            return
        await super().smtp_DATA(arg)

    def _getparams(self, params: Any) -> Any:
        # aiosmtpd answers 555 to any RCPT/MAIL parameter it does not know; a DSN server
        # (RFC 3461) takes NOTIFY/ORCPT/RET/ENVID, which the envelope keeps in its options.
        if self.handler.dsn:
            params = [p for p in params if not p.upper().startswith(_DSN_PARAMS)]
        return super()._getparams(params)


class FaultServer:
    """The fault server in a thread: ``with FaultServer(...) as server`` or start()/stop().

    ``tls`` is None (plain), ``"starttls"`` or ``"implicit"``; certificates come from
    ``test_ca()`` (or ``ca``) for ``localhost`` and ``127.0.0.1``. ``ca_bundle`` is a PEM file
    a client can trust. ``timeout`` is the server's idle timeout in seconds.
    """

    def __init__(
        self,
        handler: FaultHandler | None = None,
        *,
        tls: str | None = None,
        ca: trustme.CA | None = None,
        users: dict[str, str] | None = None,
        timeout: float = 30.0,
        tmp: Path | None = None,
    ) -> None:
        self.handler = handler or FaultHandler()
        if users:
            self.handler.users.update(users)
        self.tls = tls
        self.ca = ca or test_ca()
        self.timeout = timeout
        self.host = HOST
        self.port = 0
        self._tmp = tmp
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._bundle: Path | None = None
        self._own_tmp: Path | None = None

    @property
    def stored(self) -> list[Stored]:
        """Messages the server stored, in order."""
        return self.handler.stored

    @property
    def ca_bundle(self) -> Path:
        """A PEM file with the test CA, for a client's CA bundle option."""
        if self._bundle is None:
            if self._tmp is None:  # removed again in stop()
                self._own_tmp = Path(tempfile.mkdtemp(prefix="mailkit-ca-"))
            folder = self._tmp or self._own_tmp
            self._bundle = folder / "test-ca.pem"
            self.ca.cert_pem.write_to_path(str(self._bundle))
        return self._bundle

    def server_context(self) -> ssl.SSLContext:
        """The server side TLS context (certificate for localhost and 127.0.0.1)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
        return ctx

    def _factory(self, loop: asyncio.AbstractEventLoop, ctx: ssl.SSLContext | None) -> _FaultSMTP:
        smtp = _FaultSMTP(
            self.handler,
            hostname="fault.test",
            enable_SMTPUTF8=True,
            data_size_limit=None,
            tls_context=ctx if self.tls == "starttls" else None,
            require_starttls=self.tls == "starttls",
            authenticator=self.handler.authenticate,
            timeout=self.timeout,
            loop=loop,
        )
        smtp.handler = self.handler
        if self.tls == "implicit":
            smtp._tls_protocol = True  # type: ignore[assignment]  # AUTH is offered over TLS
        return smtp

    def start(self) -> FaultServer:
        """Listen on 127.0.0.1, a free port; raise if not ready within START_TIMEOUT."""
        ctx = self.server_context() if self.tls else None
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(
                        lambda: self._factory(loop, ctx),
                        self.host,
                        0,
                        ssl=ctx if self.tls == "implicit" else None,
                    )
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as err:  # reported to the starting thread
                failure.append(err)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            _drain(loop)

        self._thread = threading.Thread(target=run, name="fault-smtp", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or failure:
            raise RuntimeError(f"the fault server did not start: {failure}")
        return self

    def stop(self) -> None:
        """Close the listener and every session; wait for the thread (bounded)."""
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        def shutdown() -> None:
            server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_later(0.05, loop.stop)

        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(shutdown)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
        self._loop = self._server = None
        if self._own_tmp is not None:
            shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = self._bundle = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Let cancelled sessions finish, then close the loop."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


def _login_of(session: Session) -> str | None:
    login = getattr(session.auth_data, "login", None)
    return login.decode() if isinstance(login, bytes) else None
