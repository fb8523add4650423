"""The SMTP transport (aiosmtplib): explicit TLS, one login, each phase driven and classified."""

from __future__ import annotations

import contextlib
import logging
import ssl
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPDataError,
    SMTPException,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from ..config import DsnOptions, Security, SmtpSettings
from ..errors import (
    AuthError,
    ConfigError,
    ConnectError,
    SecurityError,
    SenderRefusedError,
    TransportError,
)
from ..i18n import _
from ..mailerlog import event
from ..message import OutgoingMessage
from .base import Capabilities, RecipientResult, SendResult, SendStatus, Transport
from .smtprules import (
    check_settings,
    data_payload,
    enhanced_code,
    is_throttle,
    tls_context,
    xtext,
)

__all__ = ["SmtpTransport", "enhanced_code", "is_throttle", "xtext"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Reply:
    code: int | None
    text: str

    @property
    def temporary(self) -> bool:
        return self.code is None or 400 <= self.code < 500


class SmtpTransport(Transport):
    """Sends frozen messages over SMTP; reconnects lazily after a dropped connection."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings, *, dsn: DsnOptions | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self.dsn = dsn or DsnOptions()
        self._smtp: aiosmtplib.SMTP | None = None
        self._caps = Capabilities()

    @property
    def where(self) -> str:
        """'host:port' for messages."""
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def capabilities(self) -> Capabilities:
        return self._caps

    @property
    def connected(self) -> bool:
        """True while a session is open."""
        return self._smtp is not None and self._smtp.is_connected

    async def open(self) -> None:
        if self.connected:
            return
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            use_tls=s.security is Security.TLS,
            start_tls=False,  # STARTTLS is done below, required, never opportunistic
            tls_context=None if s.security is Security.NONE else tls_context(s),
            local_hostname=s.local_hostname or "mailkit.localdomain",
        )
        try:
            await self._connect(smtp)
        except TransportError as err:
            smtp.close()
            event(f"{err.phase or 'connect'}-failed", err.message, level="error", where=self.where,
                  code=err.code, status=enhanced_code(err.reply or ""))  # fmt: skip
            raise
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        ext = smtp.esmtp_extensions
        size = ext.get("size", "")
        self._caps = Capabilities(
            size=int(size) if size.isdigit() and int(size) > 0 else None,
            dsn="dsn" in ext,
            smtputf8="smtputf8" in ext,
            pipelining="pipelining" in ext,
        )
        event("connect", _("connected to {where}").format(where=self.where), where=self.where,
              details=_session_details(smtp, s))  # fmt: skip

    async def _connect(self, smtp: aiosmtplib.SMTP) -> None:
        s = self.settings
        try:
            await smtp.connect()
            await smtp.ehlo()
            if s.security is Security.STARTTLS:
                if not smtp.supports_extension("starttls"):
                    raise SecurityError(
                        _(
                            "{where} does not offer STARTTLS, so nothing was sent (no password "
                            "either). Check the port: 465 needs security 'tls'."
                        ).format(where=self.where),
                        phase="tls",
                    )
                await smtp.starttls()
                await smtp.ehlo()
        except (ssl.SSLError, SMTPException, OSError) as err:
            raise self._connect_error(err) from err
        await self._login(smtp)

    def _connect_error(self, err: BaseException) -> TransportError:
        s, where = self.settings, self.where
        cause = err if isinstance(err, ssl.SSLError) else err.__cause__
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SecurityError(
                _(
                    "the certificate of {where} is not trusted ({reason}); nothing was sent. If "
                    "your company uses its own certificate authority, set ca_bundle to its file."
                ).format(where=where, reason=cause.verify_message or cause.reason),
                phase="tls",
            )
        if isinstance(cause, ssl.SSLError):
            return SecurityError(
                _(
                    "TLS with {where} failed ({reason}) with security '{mode}'; nothing was sent. "
                    "Port 465 needs 'tls', ports 587 and 25 need 'starttls'."
                ).format(where=where, reason=cause.reason or cause, mode=s.security.value),
                phase="tls",
            )
        if isinstance(err, SMTPConnectResponseError):
            return ConnectError(
                _("{where} refused the session: {code} {reply}; nothing was sent").format(
                    where=where, code=err.code, reply=err.message
                ),
                phase="connect",
                code=err.code,
                reply=err.message,
            )
        if isinstance(err, SMTPConnectTimeoutError):
            hint = (
                _(" If this port expects TLS from the first byte (465), use security 'tls'.")
                if s.security is not Security.TLS
                else ""
            )
            return ConnectError(
                _("{where} did not answer within {ms} ms; nothing was sent.{hint}").format(
                    where=where, ms=s.timeout_ms, hint=hint
                ),
                phase="connect",
            )
        reason = _reason(err)
        return ConnectError(
            _("cannot connect to {where}: {reason}; nothing was sent").format(
                where=where, reason=reason
            ),
            phase="connect",
        )

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        s = self.settings
        if not s.username:
            return
        methods = smtp.server_auth_methods
        try:
            # One attempt with one mechanism: aiosmtplib's login() would try every advertised
            # mechanism, costing several failed logins (and lockouts) for one wrong password.
            if s.oauth2 is not None:
                if "xoauth2" not in methods:
                    raise _auth_missing(self.where, "XOAUTH2", methods)
                await smtp.auth_xoauth2(s.username, await s.oauth2.token())
            elif "plain" in methods:
                await smtp.auth_plain(s.username, _password(s))
            elif "login" in methods:
                await smtp.auth_login(s.username, _password(s))
            else:
                raise _auth_missing(self.where, "PLAIN/LOGIN", methods)
        except SMTPAuthenticationError as err:
            raise AuthError(
                _(
                    "{where} refused the login of user {user}: {code} {reply}. Check the user "
                    "name and password (or app password); nothing was sent."
                ).format(where=self.where, user=s.username, code=err.code, reply=err.message),
                phase="auth",
                code=err.code,
                reply=err.message,
            ) from err
        except (SMTPException, OSError) as err:
            raise ConnectError(
                _("the connection to {where} broke during login: {reason}").format(
                    where=self.where, reason=_reason(err)
                ),
                phase="auth",
            ) from err

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if smtp.is_connected:
            try:
                await smtp.quit(timeout=min(self.settings.timeout, 5.0))
            except (SMTPException, OSError):
                smtp.close()

    async def send(self, message: OutgoingMessage) -> SendResult:
        await self.open()
        smtp = self._smtp
        assert smtp is not None
        if message.smtputf8 and not self._caps.smtputf8:
            return SendResult(
                SendStatus.FAILED,
                message.message_id,
                reply=_(
                    "an address has non-ASCII characters before the @ and {where} does not offer "
                    "SMTPUTF8; ask the recipient for another address"
                ).format(where=self.where),
                phase="mail",
            )
        refused = await self._mail(smtp, message)
        if refused is not None:
            return refused
        results = [await self._rcpt(smtp, message, r) for r in message.recipients]
        if not any(r.accepted for r in results):
            return await self._none_accepted(smtp, message, results)
        return await self._data(smtp, message, tuple(results))

    def _mail_options(self, message: OutgoingMessage) -> list[str]:
        options = []
        if self._caps.size:
            options.append(f"SIZE={len(message.data)}")
        if message.smtputf8:
            options.append("SMTPUTF8")
        if self._caps.dsn and self.dsn.requested:
            options += [f"RET={self.dsn.ret}", f"ENVID={xtext(message.message_id.strip('<>'))}"]
        return options

    async def _mail(self, smtp: aiosmtplib.SMTP, message: OutgoingMessage) -> SendResult | None:
        try:
            reply = await _command(
                smtp, message, b"MAIL FROM:", message.mail_from, self._mail_options(message)
            )
        except (SMTPException, OSError) as err:
            return self._broken(smtp, message, err, "mail", status=SendStatus.DEFERRED)
        if reply.code == 250:
            return None
        if reply.code in (550, 553) and enhanced_code(reply.message).startswith("5.7."):
            raise SenderRefusedError(
                _(
                    "{where} refused the sender {sender}: {code} {reply}. This account may "
                    "not send as this address: send From the account's own address and put "
                    "{sender} in Reply-To, or ask the administrator for send-as rights."
                ).format(
                    where=self.where, sender=message.mail_from, code=reply.code, reply=reply.message
                ),
                phase="mail",
                code=reply.code,
                reply=reply.message,
            )
        return self._refused(smtp, message, _Reply(reply.code, reply.message), "mail")

    async def _rcpt(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, address: str
    ) -> RecipientResult:
        options = []
        notify = self.dsn.notify_param()
        if self._caps.dsn and notify:
            options = [f"NOTIFY={notify}", f"ORCPT=rfc822;{xtext(address)}"]
        if not smtp.is_connected:
            return RecipientResult(address, False, None, _("the connection was lost"))
        try:
            reply = await _command(smtp, message, b"RCPT TO:", address, options)
        except (SMTPException, OSError) as err:
            smtp.close()
            return RecipientResult(address, False, None, _reason(err))
        return RecipientResult(address, reply.code in (250, 251), reply.code, reply.message)

    async def _none_accepted(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, results: list[RecipientResult]
    ) -> SendResult:
        await self._reset(smtp)
        temporary = [r for r in results if r.code is None or r.code < 500]
        first = temporary[0] if temporary else results[0]
        status = SendStatus.DEFERRED if temporary else SendStatus.FAILED
        return SendResult(
            status,
            message.message_id,
            tuple(results),
            first.code,
            first.reply,
            "rcpt",
            pause=bool(temporary) and is_throttle(first.code, first.reply),
        )

    async def _data(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, results: tuple[RecipientResult, ...]
    ) -> SendResult:
        try:
            reply = await _send_data(smtp, message.data, self.settings.timeout)
        except SMTPDataError as err:
            return self._refused(smtp, message, _Reply(err.code, err.message), "data", results)
        except (SMTPException, OSError) as err:
            # After DATA has started a drop cannot tell "stored" from "lost" (RELIABILITY.md).
            return self._broken(
                smtp, message, err, "data", status=SendStatus.UNKNOWN, results=results
            )
        refused = [r for r in results if not r.accepted]
        status = SendStatus.PARTIAL if refused else SendStatus.SENT
        return SendResult(status, message.message_id, results, reply.code, reply.message, "data")

    def _refused(
        self,
        smtp: aiosmtplib.SMTP,
        message: OutgoingMessage,
        reply: _Reply,
        phase: str,
        results: tuple[RecipientResult, ...] = (),
    ) -> SendResult:
        if reply.code == 421:
            smtp.close()  # 421: the server closes the channel (RFC 5321 section 3.8)
        status = SendStatus.DEFERRED if reply.temporary else SendStatus.FAILED
        pause = reply.temporary and is_throttle(reply.code, reply.text)
        return SendResult(
            status, message.message_id, results, reply.code, reply.text, phase, pause=pause
        )

    def _broken(
        self,
        smtp: aiosmtplib.SMTP,
        message: OutgoingMessage,
        err: BaseException,
        phase: str,
        *,
        status: SendStatus,
        results: tuple[RecipientResult, ...] = (),
    ) -> SendResult:
        smtp.close()
        code = err.code if isinstance(err, SMTPResponseException) else None
        log.info("SMTP %s to %s broke in %s: %s", message.key, self.where, phase, _reason(err))
        event("connection-lost", _("the connection broke in {phase}: {reason}").format(
            phase=phase, reason=_reason(err)), level="warning", where=self.where, key=message.key,
            code=code)  # fmt: skip
        return SendResult(status, message.message_id, results, code, _reason(err), phase)

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        if not smtp.is_connected:
            return
        try:
            await smtp.rset()
        except (SMTPException, OSError):
            smtp.close()


async def _command(
    smtp: aiosmtplib.SMTP, message: OutgoingMessage, verb: bytes, address: str, options: list[str]
) -> aiosmtplib.SMTPResponse:
    """MAIL FROM / RCPT TO with a validated address: no re-parsing of it (RFC 5321 4.1.2).

    aiosmtplib's mail()/rcpt() parse every address again with email.utils; ours come from
    email-validator, so they are quoted as they are (aiosmtplib still refuses CR/LF).
    """
    encoded = address.encode("utf-8" if message.smtputf8 else "ascii")
    return await smtp.execute_command(
        verb + b"<" + encoded + b">", *(o.encode("ascii") for o in options)
    )


async def _send_data(smtp: aiosmtplib.SMTP, data: bytes, timeout: float) -> aiosmtplib.SMTPResponse:
    """DATA, the message, its reply: ``smtp.data()`` minus two regular expressions over every
    message (a third of the CPU spent per message on a fast link); same errors as it raises."""
    start = await smtp.execute_command(b"DATA", timeout=timeout)
    if start.code != 354:
        raise SMTPDataError(start.code, start.message)
    protocol = smtp.protocol
    if protocol is None:
        raise SMTPServerDisconnected("Connection lost")
    try:
        protocol.write(data_payload(data))
        reply = await protocol.read_response(timeout=timeout)
    except (SMTPServerDisconnected, SMTPTimeoutError):
        smtp.close()
        raise
    if reply.code != 250:
        raise SMTPDataError(reply.code, reply.message)
    return reply


def _reason(err: BaseException) -> str:
    if isinstance(err, SMTPTimeoutError | TimeoutError):
        return _("no answer within the timeout")
    if isinstance(err, SMTPServerDisconnected):
        return _("the server closed the connection")
    if isinstance(err, ConnectionRefusedError) or isinstance(err.__cause__, ConnectionRefusedError):
        return _("connection refused")
    if isinstance(err, SMTPResponseException):
        return f"{err.code} {err.message}"
    return str(err) or type(err).__name__


def _session_details(smtp: aiosmtplib.SMTP, s: SmtpSettings) -> str:
    """Security, TLS version and cipher, extensions and login user: no secret."""
    parts = [f"security={s.security.value}"]
    with contextlib.suppress(SMTPException):
        ssl_object = smtp.get_transport_info("ssl_object")
        if ssl_object is not None:
            parts.append(f"{ssl_object.version()} {ssl_object.cipher()[0]}")
    parts.append("extensions=" + " ".join(sorted(smtp.esmtp_extensions)).upper())
    if s.username:
        parts.append(f"user={s.username}" + (" (oauth2)" if s.oauth2 is not None else ""))
    return "; ".join(parts)


def _password(settings: SmtpSettings) -> str:
    if settings.password is None:
        raise ConfigError(
            _("smtp user {user} needs a password").format(user=settings.username),
            setting="smtp.password",
        )
    return settings.password.reveal()


def _auth_missing(where: str, wanted: str, offered: list[str]) -> AuthError:
    return AuthError(
        _("{where} does not offer {wanted} login (it offers: {offered})").format(
            where=where, wanted=wanted, offered=", ".join(offered).upper() or _("none")
        ),
        phase="auth",
    )
