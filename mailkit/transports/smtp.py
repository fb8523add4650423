"""The SMTP transport (aiosmtplib): explicit TLS, one login, each phase driven and classified."""

from __future__ import annotations

import contextlib
import logging
import ssl

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPException,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from ..config import DsnOptions, Security, SmtpSettings
from ..errors import (
    AuthError,
    ConnectError,
    SecurityError,
    TransportError,
)
from ..i18n import _
from ..mailerlog import event
from ..message import OutgoingMessage
from .base import Capabilities, RecipientResult, SendResult, SendStatus, Transport
from .smtprules import (
    auth_missing,
    check_settings,
    enhanced_code,
    is_throttle,
    sender_refused,
    smtp_password,
    tls_context,
    xtext,
)
from .smtptransaction import ConnectionClosed, Reply, Transaction, envelope_line

__all__ = ["SmtpTransport", "enhanced_code", "is_throttle", "xtext"]

log = logging.getLogger(__name__)


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
                    raise auth_missing(self.where, "XOAUTH2", methods)
                await smtp.auth_xoauth2(s.username, await s.oauth2.token())
            elif "plain" in methods:
                await smtp.auth_plain(s.username, smtp_password(s))
            elif "login" in methods:
                await smtp.auth_login(s.username, smtp_password(s))
            else:
                raise auth_missing(self.where, "PLAIN/LOGIN", methods)
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
        return await self._transaction(smtp, message)

    async def _transaction(self, smtp: aiosmtplib.SMTP, message: OutgoingMessage) -> SendResult:
        """MAIL, each RCPT, DATA and the message; pipelined in one write when the server offers
        PIPELINING (RFC 2920). The message goes only after 354 with a recipient accepted: until
        then nothing can have been delivered, so a drop or a timeout defers the row; once it is
        on its way, the outcome is unknown (RELIABILITY.md)."""
        try:
            commands = self._commands(message)
        except ValueError:  # validated addresses never get here; refused for good
            reply = _("an address contains a line break; correct it in the table")
            return SendResult(SendStatus.FAILED, message.message_id, reply=reply, phase="mail")
        talk = Transaction(commands, self._caps.pipelining)
        try:
            await talk.run(smtp.protocol, message, self.settings.timeout)
        except (TimeoutError, ConnectionError) as err:
            refusal = talk.refusal()
            if refusal is not None:  # the reply counts, not the drop that followed it
                smtp.close()
                said, phase = refusal
                if phase == "mail":
                    return self._mail_refused(smtp, message, said)
                return self._refused(smtp, message, said, phase)
            status = SendStatus.UNKNOWN if talk.phase == "sent" else SendStatus.DEFERRED
            phase = "data" if talk.phase == "sent" else talk.phase
            return self._broken(smtp, message, err, phase, status=status, results=talk.results)
        mail, start, final, results = talk.mail, talk.start, talk.final, talk.results
        if start.code == 354 and final is None:
            smtp.close()  # 354 with nobody to deliver to: end the session rather than send
        if mail.code != 250:
            return self._mail_refused(smtp, message, mail)
        if not any(r.accepted for r in results):
            return await self._none_accepted(smtp, message, results)
        if final is None:
            return self._refused(smtp, message, start, "data", results)
        if final.code != 250:
            return self._refused(smtp, message, final, "data", results)
        status = SendStatus.SENT if all(r.accepted for r in results) else SendStatus.PARTIAL
        return SendResult(status, message.message_id, results, final.code, final.text, "data")

    def _commands(self, message: OutgoingMessage) -> list[bytes]:
        """MAIL FROM, one RCPT TO per recipient and DATA, as written on the wire. The addresses
        come from email-validator and are sent as they are, never parsed again (RFC 5321
        4.1.2); a line break inside one is refused (ValueError)."""
        cs = "utf-8" if message.smtputf8 else "ascii"
        lines = [envelope_line(b"MAIL FROM:", message.mail_from, cs, self._mail_options(message))]
        lines += [
            envelope_line(b"RCPT TO:", r, cs, self._rcpt_options(r)) for r in message.recipients
        ]
        return [*lines, b"DATA\r\n"]

    def _mail_options(self, message: OutgoingMessage) -> list[str]:
        options = []
        if self._caps.size:
            options.append(f"SIZE={len(message.data)}")
        if message.smtputf8:
            options.append("SMTPUTF8")
        if self._caps.dsn and self.dsn.requested:
            options += [f"RET={self.dsn.ret}", f"ENVID={xtext(message.message_id.strip('<>'))}"]
        return options

    def _mail_refused(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, reply: Reply
    ) -> SendResult:
        """MAIL FROM refused: send-as refusals (5.7.x) stop the batch, others end the row."""
        if reply.code in (550, 553) and enhanced_code(reply.text).startswith("5.7."):
            raise sender_refused(self.where, message.mail_from, reply.code, reply.text)
        return self._refused(smtp, message, reply, "mail")

    def _rcpt_options(self, address: str) -> list[str]:
        notify = self.dsn.notify_param()
        if self._caps.dsn and notify:
            return [f"NOTIFY={notify}", f"ORCPT=rfc822;{xtext(address)}"]
        return []

    async def _none_accepted(
        self, smtp: aiosmtplib.SMTP, message: OutgoingMessage, results: tuple[RecipientResult, ...]
    ) -> SendResult:
        await self._reset(smtp)
        temporary = [r for r in results if r.code is None or r.code < 500]
        first = temporary[0] if temporary else results[0]
        status = SendStatus.DEFERRED if temporary else SendStatus.FAILED
        return SendResult(
            status,
            message.message_id,
            results,
            first.code,
            first.reply,
            "rcpt",
            pause=bool(temporary) and is_throttle(first.code, first.reply),
        )

    def _refused(
        self,
        smtp: aiosmtplib.SMTP,
        message: OutgoingMessage,
        reply: Reply,
        phase: str,
        results: tuple[RecipientResult, ...] = (),
    ) -> SendResult:
        if reply.code == 421:
            smtp.close()  # 421: the server closes the channel (RFC 5321 section 3.8)
        temporary = 400 <= reply.code < 500
        status = SendStatus.DEFERRED if temporary else SendStatus.FAILED
        pause = temporary and is_throttle(reply.code, reply.text)
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


def _reason(err: BaseException) -> str:
    if isinstance(err, SMTPTimeoutError | TimeoutError):
        return _("no answer within the timeout")
    if isinstance(err, SMTPServerDisconnected | ConnectionClosed):
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
