""" "Test SMTP": DNS, TCP, greeting and TLS, EHLO, AUTH, a MAIL/RCPT probe, a test message."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from typing import Any

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from ..addresses import MailAddress
from ..config import LOCAL_HOSTS, Security, SmtpSettings
from ..i18n import _
from ..message import Draft, freeze
from .explain import Problem, problem
from .steps import (
    Diagnosis,
    OnStep,
    Run,
    StepStatus,
    certificate_details,
    certificate_problem,
    check_dns,
    check_tcp,
    ssl_error,
    tls_context,
    verify_error,
)

__all__ = ["SMTP_STEPS", "diagnose_smtp", "test_draft"]

SMTP_STEPS = ("dns", "tcp", "tls", "ehlo", "auth", "envelope", "message")


def _client(s: SmtpSettings, *, tls: bool, verify: bool, timeout: float) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=s.host,
        port=s.port,
        timeout=timeout,
        use_tls=tls,
        start_tls=False,  # never opportunistic: STARTTLS is asked for explicitly
        tls_context=tls_context(verify, s.ca_bundle),
        local_hostname=s.local_hostname or "mailkit.localdomain",
    )


async def _probe(s: SmtpSettings, *, tls: bool) -> dict[str, Any] | None:
    """Connect once more in the other mode (or unverified) only to explain a failure."""
    smtp = _client(s, tls=tls, verify=False, timeout=min(s.timeout, 5.0))
    try:
        await smtp.connect()
        if not tls:
            await smtp.ehlo()
            if smtp.supports_extension("starttls"):
                await smtp.starttls()
        return certificate_details(smtp.get_transport_info("ssl_object"))
    except (SMTPException, OSError, ssl.SSLError):
        return None
    finally:
        smtp.close()


def _reply(err: SMTPResponseException) -> str:
    return f"{err.code} {err.message}"


async def _connect_problem(s: SmtpSettings, err: BaseException) -> Problem:
    """Explain why greeting, TLS or STARTTLS failed, probing the other mode where it helps."""
    if isinstance(err, SMTPConnectResponseError):
        return problem("greeting-refused", reply=_reply(err))
    cert = verify_error(err)
    if cert is not None:
        return certificate_problem(
            cert, s.host, await _probe(s, tls=s.security is Security.TLS) or {}
        )
    timed_out = isinstance(err, SMTPTimeoutError | TimeoutError)
    broken = ssl_error(err) is not None or isinstance(err, SMTPServerDisconnected)
    implicit = s.security is Security.TLS
    if implicit and broken and await _probe(s, tls=False) is not None:
        return problem("expects-plain", port=s.port)
    if not implicit and timed_out and await _probe(s, tls=True) is not None:
        return problem("expects-tls", port=s.port, security=s.security.value)
    if timed_out:
        return problem("timeout", seconds=s.timeout, phase=_("the greeting"))
    tls = ssl_error(err)
    if tls is not None:
        return problem("tls-failed", host=s.host, port=s.port, reason=tls.reason or tls)
    return problem("disconnected", phase=_("the greeting"), reason=err)


async def _greet(run: Run, s: SmtpSettings, smtp: aiosmtplib.SMTP) -> bool:
    """Step 'tls': greeting, TLS mode and certificate (STARTTLS done here when asked for)."""
    try:
        await smtp.connect()
        if s.security is Security.STARTTLS:
            await smtp.ehlo()
            if not smtp.supports_extension("starttls"):
                run.fail("tls", problem("starttls-missing", port=s.port))
                return False
            await smtp.starttls()
    except (SMTPException, OSError, ssl.SSLError) as err:
        run.fail("tls", await _connect_problem(s, err))
        return False
    details = certificate_details(smtp.get_transport_info("ssl_object"))
    if s.security is Security.NONE:
        local = s.host.lower() in LOCAL_HOSTS
        status = StepStatus.OK if local else StepStatus.WARNING
        run.add("tls", status, _("no encryption (security 'none'): for this computer only"))
        return True
    detail = _("{version}, certificate for {subject} from {issuer}, valid until {until}").format(
        version=details.get("tls_version", "?"),
        subject=details.get("subject", "?"),
        issuer=details.get("issuer", "?"),
        until=details.get("not_after", "?"),
    )
    if not s.verify_certificates:
        run.add(
            "tls", StepStatus.WARNING, detail + " " + _("(NOT verified: switched off)"), **details
        )
    else:
        run.add("tls", StepStatus.OK, detail, **details)
    return True


async def _ehlo(run: Run, smtp: aiosmtplib.SMTP) -> bool:
    try:
        await smtp.ehlo()
    except (SMTPException, OSError) as err:
        run.fail("ehlo", _command_problem(err, _("EHLO"), smtp))
        return False
    ext = dict(smtp.esmtp_extensions)
    names = ", ".join(f"{k.upper()} {v}".strip() for k, v in sorted(ext.items()))
    run.add("ehlo", StepStatus.OK, names or _("none"), extensions=ext)
    return True


def _command_problem(err: BaseException, phase: str, smtp: aiosmtplib.SMTP) -> Problem:
    if isinstance(err, SMTPTimeoutError | TimeoutError):
        return problem("timeout", seconds=smtp.timeout, phase=phase)
    if isinstance(err, SMTPResponseException):
        return problem("server-error", reply=_reply(err), phase=phase)
    return problem("disconnected", phase=phase, reason=err)


async def _auth(run: Run, s: SmtpSettings, smtp: aiosmtplib.SMTP) -> bool:
    """Step 'auth': one login attempt with one mechanism (never one per mechanism)."""
    if not s.username:
        run.add("auth", StepStatus.SKIPPED, _("no user name set: sending without a login"))
        return True
    methods = smtp.server_auth_methods
    try:
        if s.oauth2 is not None and "xoauth2" in methods:
            await smtp.auth_xoauth2(s.username, await s.oauth2.token())
        elif s.oauth2 is None and "plain" in methods:
            await smtp.auth_plain(s.username, s.password.reveal() if s.password else "")
        elif s.oauth2 is None and "login" in methods:
            await smtp.auth_login(s.username, s.password.reveal() if s.password else "")
        else:
            run.fail("auth", problem("auth-unavailable", offered=", ".join(methods) or _("none")))
            return False
    except SMTPAuthenticationError as err:
        run.fail("auth", problem("auth-failed", user=s.username, reply=_reply(err)))
        return False
    except (SMTPException, OSError) as err:
        run.fail("auth", _command_problem(err, _("the login"), smtp))
        return False
    run.add("auth", StepStatus.OK, _("logged in as {user}").format(user=s.username))
    return True


def _rcpt_problem(err: SMTPRecipientRefused, sender: MailAddress, login: str) -> Problem:
    text = err.message.lower()
    if "sender" in text and ("reject" in text or "not owned" in text):  # Postfix checks at RCPT
        return problem("sender-rejected", sender=sender.addr_spec, reply=_reply(err), login=login)
    own_domain = err.recipient.rpartition("@")[2].lower() == sender.ascii_domain.lower()
    if "relay" in text or ("5.7.1" in text and not own_domain):
        return problem("relay-denied", recipient=err.recipient, reply=_reply(err))
    return problem("recipient-rejected", recipient=err.recipient, reply=_reply(err))


async def _envelope(
    run: Run, s: SmtpSettings, smtp: aiosmtplib.SMTP, sender: MailAddress, rcpts: Sequence[str]
) -> bool:
    """Step 'envelope': MAIL FROM and RCPT TO as a real message would, then RSET."""
    try:
        await smtp.mail(sender.envelope())
        for rcpt in rcpts:
            await smtp.rcpt(rcpt)
        await smtp.rset()
    except SMTPSenderRefused as err:
        code = "auth-required" if err.code == 530 else "sender-rejected"
        run.fail("envelope", problem(code, sender=err.sender, reply=_reply(err), login=s.username))
        return False
    except SMTPRecipientRefused as err:
        run.fail("envelope", _rcpt_problem(err, sender, s.username))
        return False
    except (SMTPException, OSError) as err:
        run.fail("envelope", _command_problem(err, _("the envelope"), smtp))
        return False
    run.add(
        "envelope",
        StepStatus.OK,
        _("{sender} may send to {rcpts}; reset, nothing sent").format(
            sender=sender.envelope(), rcpts=", ".join(rcpts)
        ),
    )
    return True


async def _message(run: Run, s: SmtpSettings, smtp: aiosmtplib.SMTP, draft: Draft) -> None:
    """Step 'message': the seed's test message to the sender and the CC/BCC addresses."""
    message = freeze(draft)
    try:
        refused, reply = await smtp.sendmail(
            message.mail_from, list(message.recipients), message.data
        )
    except SMTPRecipientRefused as err:
        run.fail("message", _rcpt_problem(err, draft.sender, s.username))
        return
    except (SMTPException, OSError) as err:
        run.fail("message", _command_problem(err, _("the test message"), smtp))
        return
    accepted = [r for r in message.recipients if r not in refused]
    status = StepStatus.WARNING if refused else StepStatus.OK
    run.add(
        "message",
        status,
        _("sent to {accepted}; refused: {refused} ({reply})").format(
            accepted=", ".join(accepted) or _("nobody"),
            refused=", ".join(refused) or _("none"),
            reply=reply,
        ),
        message_id=message.message_id,
    )


def test_draft(
    sender: MailAddress, cc: Sequence[MailAddress], bcc: Sequence[MailAddress], s: SmtpSettings
) -> Draft:
    """The test message: who, where and how it was sent; never a password."""
    text = _(
        "This is a test message from mailkit.\n\nServer: {host}:{port} ({security})\n"
        "User: {user}\nSender: {sender}\n\nIf it arrived, the account can send mail.\n"
    ).format(
        host=s.host, port=s.port, security=s.security.value, user=s.username or "-", sender=sender
    )
    return Draft(
        "test", sender, (sender,), _("mailkit: test message"), text, cc=tuple(cc), bcc=tuple(bcc)
    )


async def diagnose_smtp(
    s: SmtpSettings,
    sender: MailAddress,
    *,
    cc: Sequence[MailAddress] = (),
    bcc: Sequence[MailAddress] = (),
    probe: Sequence[str] = (),
    send_test: bool = False,
    on_step: OnStep | None = None,
) -> Diagnosis:
    """Check every SMTP step for ``s`` sending as ``sender``; ``probe`` adds RCPT addresses
    (e.g. an outside one to test relaying). Sends a real message only with ``send_test``."""
    run = Run(SMTP_STEPS, on_step)
    rcpts = list(dict.fromkeys([sender.envelope(), *(a.envelope() for a in (*cc, *bcc)), *probe]))
    if await check_dns(run, s.host, s.port, s.timeout) and await check_tcp(
        run, s.host, s.port, s.timeout
    ):
        smtp = _client(
            s, tls=s.security is Security.TLS, verify=s.verify_certificates, timeout=s.timeout
        )
        try:
            ok = (
                await _greet(run, s, smtp)
                and await _ehlo(run, smtp)
                and await _auth(run, s, smtp)
                and await _envelope(run, s, smtp, sender, rcpts)
            )
            if ok and send_test:
                await _message(run, s, smtp, test_draft(sender, cc, bcc, s))
            if ok and smtp.is_connected:
                await smtp.quit()
        except (SMTPException, OSError):
            pass  # QUIT failing changes nothing about the result
        finally:
            smtp.close()
    return run.finish("smtp", s.host, s.port, s.security)
