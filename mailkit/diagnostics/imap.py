""" "Test IMAP": DNS, TCP, TLS, login, the folder list, and where Sent and Drafts are.

The IMAP protocol itself is mailkit.imap's (IMAPClient); this module only orders the steps
and explains what went wrong.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

from ..config import ImapSettings, Security
from ..errors import AuthError, MailkitError
from ..i18n import _
from ..imap import Folder, ImapClient
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
    verify_error,
)

__all__ = ["IMAP_STEPS", "diagnose_imap"]

IMAP_STEPS = ("dns", "tcp", "tls", "imap-login", "imap-folders", "imap-special")


def _open(s: ImapSettings) -> ImapClient:
    """Connect (TLS or STARTTLS) and log in if ``s`` has a user name (mailkit.imap does it)."""
    client = ImapClient(s)
    client.connect()
    return client


def _probe(s: ImapSettings, mode: Security) -> dict[str, Any] | None:
    """Connect once more in ``mode``, unverified and without login, only to explain a failure."""
    try:
        client = _open(
            s.replace(
                security=mode,
                username="",
                verify_certificates=False,
                timeout_ms=min(s.timeout_ms, 5000),
            )
        )
    except MailkitError as err:
        # A plain-text server without STARTTLS still greeted: it speaks IMAP without TLS.
        greeted = mode is Security.STARTTLS and not isinstance(
            err.__cause__, OSError | ssl.SSLError
        )
        return {} if greeted else None
    details = _details(client)
    client.close()
    return details


def _details(client: ImapClient) -> dict[str, Any]:
    sock = client.client.socket()
    return certificate_details(sock if isinstance(sock, ssl.SSLSocket) else None)


def _tls_problem(s: ImapSettings, err: MailkitError) -> Problem:
    cause = err.__cause__ or err
    cert = verify_error(cause)
    if cert is not None:
        return certificate_problem(cert, s.host, _probe(s, s.security) or {})
    implicit = s.security is Security.TLS
    timed_out = isinstance(cause, TimeoutError | socket.timeout)
    if implicit and ssl_error(cause) is not None and _probe(s, Security.STARTTLS) is not None:
        return problem("expects-plain", port=s.port)
    if not implicit and timed_out and _probe(s, Security.TLS) is not None:
        return problem("expects-tls", port=s.port, security=s.security.value)
    if not isinstance(cause, OSError) and "STARTTLS" in str(cause).upper():
        return problem("starttls-missing", port=s.port)
    if timed_out:
        return problem("timeout", seconds=s.timeout, phase=_("the greeting"))
    tls = ssl_error(cause)
    if tls is not None:
        return problem("tls-failed", host=s.host, port=s.port, reason=tls.reason or tls)
    return problem("disconnected", phase=_("the greeting"), reason=err)


def _tls_step(run: Run, s: ImapSettings) -> bool:
    """Step 'tls': connect without logging in, to tell TLS problems from login problems."""
    try:
        client = _open(s.replace(username=""))
    except MailkitError as err:
        run.fail("tls", _tls_problem(s, err))
        return False
    details = _details(client)
    client.close()
    if s.security is Security.NONE:
        run.add("tls", StepStatus.WARNING, _("no encryption (security 'none')"))
        return True
    detail = _("{version}, certificate for {subject}, valid until {until}").format(
        version=details.get("tls_version", "?"),
        subject=details.get("subject", "?"),
        until=details.get("not_after", "?"),
    )
    status = StepStatus.OK if s.verify_certificates else StepStatus.WARNING
    run.add("tls", status, detail, **details)
    return True


def _login(run: Run, s: ImapSettings) -> ImapClient | None:
    if not s.username:
        run.fail("imap-login", problem("auth-required", reply=_("no user name set")))
        return None
    try:
        client = _open(s)
    except AuthError as err:
        reply = str(err.__cause__ or err)
        run.fail("imap-login", problem("auth-failed", user=s.username, reply=reply))
        return None
    except MailkitError as err:
        run.fail("imap-login", problem("disconnected", phase=_("the login"), reason=err))
        return None
    run.add("imap-login", StepStatus.OK, _("logged in as {user}").format(user=s.username))
    return client


def _folders(run: Run, client: ImapClient) -> list[Folder] | None:
    try:
        folders = client.folders()
    except MailkitError as err:
        run.fail("imap-folders", problem("disconnected", phase="LIST", reason=err))
        return None
    names = [f.name for f in folders]
    run.add("imap-folders", StepStatus.OK, ", ".join(names), folders=names)
    return folders


def _find(client: ImapClient, folders: list[Folder], use: str, configured: str) -> str | None:
    if configured:  # a configured name must exist
        return configured if configured in {f.name for f in folders} else None
    try:
        return client.special(use)
    except MailkitError:
        return None


def _special(run: Run, s: ImapSettings, client: ImapClient, folders: list[Folder]) -> None:
    sent = _find(client, folders, "sent", s.sent_folder)
    drafts = _find(client, folders, "drafts", s.drafts_folder)
    detail = _("Sent: {sent}; Drafts: {drafts}").format(sent=sent or "-", drafts=drafts or "-")
    if sent and drafts:
        run.add("imap-special", StepStatus.OK, detail, sent=sent, drafts=drafts)
        return
    missing = (s.sent_folder or "Sent") if not sent else (s.drafts_folder or "Drafts")
    names = ", ".join(f.name for f in folders)
    explained = problem("folder-missing", folder=missing, folders=names)
    run.add("imap-special", StepStatus.WARNING, detail, problem=explained, sent=sent, drafts=drafts)


def _session(run: Run, s: ImapSettings) -> None:
    """The blocking part (IMAPClient through mailkit.imap), run in a worker thread."""
    if not _tls_step(run, s):
        return
    client = _login(run, s)
    if client is None:
        return
    try:
        folders = _folders(run, client)
        if folders is not None:
            _special(run, s, client, folders)
    finally:
        client.close()


async def diagnose_imap(s: ImapSettings, *, on_step: OnStep | None = None) -> Diagnosis:
    """Check every IMAP step for ``s``: DNS, TCP, TLS, login, folders, Sent and Drafts.

    The IMAP client blocks, so the session runs in a worker thread: ``on_step`` is called
    from it.
    """
    run = Run(IMAP_STEPS, on_step)
    if await check_dns(run, s.host, s.port, s.timeout) and await check_tcp(
        run, s.host, s.port, s.timeout
    ):
        await asyncio.to_thread(_session, run, s)
    return run.finish("imap", s.host, s.port, s.security)
