"""'Test SMTP' against real aiosmtpd servers, one variant per failure users meet."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from smtp_server import FaultHandler, FaultServer

from mailkit.accounts import Account
from mailkit.addresses import parse_address
from mailkit.config import Secret, Security, SmtpSettings
from mailkit.diagnostics import Diagnosis, diagnose_account, diagnose_smtp

SENDER = parse_address("Kadry <ala@example.com>")
USERS = {"ala@example.com": "sekret"}


def run(settings: SmtpSettings, **options: object) -> Diagnosis:
    return asyncio.run(diagnose_smtp(settings, SENDER, **options))  # type: ignore[arg-type]


def statuses(diagnosis: Diagnosis) -> dict[str, str]:
    return {s.name: s.status.value for s in diagnosis.steps}


def failed(diagnosis: Diagnosis) -> tuple[str, str]:
    step = diagnosis.failure
    assert step is not None, diagnosis.lines()
    assert step.problem is not None
    return step.name, step.problem.code


def settings(server: FaultServer, security: Security, **changes: object) -> SmtpSettings:
    base = SmtpSettings(
        "localhost",
        server.port,
        security,
        "ala@example.com",
        Secret("sekret"),
        timeout_ms=3000,
        ca_bundle=server.ca_bundle,
    )
    return base.replace(**changes)


@pytest.fixture
def starttls(tmp_path: Path) -> Iterator[FaultServer]:
    with FaultServer(tls="starttls", users=USERS, tmp=tmp_path, timeout=10) as server:
        yield server


@pytest.fixture
def implicit(tmp_path: Path) -> Iterator[FaultServer]:
    with FaultServer(tls="implicit", users=USERS, tmp=tmp_path, timeout=10) as server:
        yield server


def test_every_step_passes_and_the_probe_sends_nothing(starttls: FaultServer) -> None:
    seen: list[str] = []
    result = asyncio.run(
        diagnose_smtp(
            settings(starttls, Security.STARTTLS),
            SENDER,
            on_step=lambda step: seen.append(step.name),
        )
    )
    assert result.ok
    assert statuses(result) == {
        "dns": "ok",
        "tcp": "ok",
        "tls": "ok",
        "ehlo": "ok",
        "auth": "ok",
        "envelope": "ok",
        "message": "skipped",
    }
    assert seen == ["dns", "tcp", "tls", "ehlo", "auth", "envelope", "message"]
    tls = result.steps[2]
    assert tls.data["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert tls.data["not_after"] == "3000-01-01"
    assert "trustme" in tls.data["subject"]
    assert "starttls" not in result.steps[3].data["extensions"]  # EHLO after TLS
    assert starttls.stored == []
    assert starttls.handler.commands["RCPT"] == 1
    assert starttls.handler.commands["AUTH"] == 1


def test_test_message_goes_to_sender_cc_and_bcc(implicit: FaultServer) -> None:
    account = Account(
        "Kadry",
        "ala@example.com",
        settings(implicit, Security.TLS),
        sender_name="Kadry",
        cc="kopia@example.com",
        bcc="archiwum@example.com",
    )
    results = asyncio.run(diagnose_account(account, send_test=True))
    assert len(results) == 1
    assert results[0].ok
    (stored,) = implicit.stored
    assert stored.rcpt_tos == ("ala@example.com", "kopia@example.com", "archiwum@example.com")
    parsed = message_from_bytes(stored.data, policy=email_policy.default)
    assert parsed["Bcc"] is None
    assert "sekret" not in stored.data.decode()
    assert results[0].steps[-1].data["message_id"] == stored.message_id


def test_connection_refused_names_the_two_causes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(SmtpSettings("127.0.0.1", port, Security.STARTTLS, timeout_ms=2000))
    assert failed(result) == ("tcp", "connection-refused")
    causes = result.steps[1].problem.causes  # type: ignore[union-attr]
    assert any("not the machine that handles your mail" in c for c in causes)
    assert any(f"Port {port}" in c and "does not accept connections" in c for c in causes)
    assert statuses(result)["auth"] == "skipped"


def test_unknown_host() -> None:
    result = run(SmtpSettings("smtp.nothing.invalid", 587, Security.STARTTLS, timeout_ms=2000))
    assert failed(result) == ("dns", "unknown-host")


def test_starttls_on_an_implicit_tls_port(implicit: FaultServer) -> None:
    result = run(settings(implicit, Security.STARTTLS, timeout_ms=1000))
    assert failed(result) == ("tls", "expects-tls")
    assert implicit.handler.commands["AUTH"] == 0


def test_implicit_tls_on_a_starttls_port(starttls: FaultServer) -> None:
    result = run(settings(starttls, Security.TLS))
    assert failed(result) == ("tls", "expects-plain")
    assert starttls.handler.commands["AUTH"] == 0


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_untrusted_certificate(mode: str, tmp_path: Path) -> None:
    with FaultServer(tls=mode, users=USERS, tmp=tmp_path, timeout=10) as server:
        security = Security.STARTTLS if mode == "starttls" else Security.TLS
        result = run(settings(server, security, ca_bundle=None))
        assert failed(result) == ("tls", "certificate-untrusted")
        assert server.handler.commands["AUTH"] == 0
        assert "CA bundle" in " ".join(result.failure.problem.actions)  # type: ignore[union-attr]


class _CertServer(FaultServer):
    """A server presenting a certificate made by ``issue`` (expired, or for another name)."""

    def __init__(self, issue: dict[str, object], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.issue = issue

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        names = self.issue.get("names", ("localhost", "127.0.0.1"))
        options = {k: v for k, v in self.issue.items() if k != "names"}
        self.ca.issue_cert(*names, **options).configure_cert(ctx)  # type: ignore[arg-type]
        return ctx


def test_expired_certificate(tmp_path: Path) -> None:
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    issue = {"not_before": past - dt.timedelta(days=30), "not_after": past}
    with _CertServer(issue, tls="implicit", users=USERS, tmp=tmp_path, timeout=10) as server:
        result = run(settings(server, Security.TLS))
    assert failed(result) == ("tls", "certificate-expired")
    assert "2020-01-01" in result.failure.problem.summary  # type: ignore[union-attr]


def test_certificate_for_another_name(tmp_path: Path) -> None:
    issue = {"names": ("mail.other.example",)}
    with _CertServer(issue, tls="starttls", users=USERS, tmp=tmp_path, timeout=10) as server:
        result = run(settings(server, Security.STARTTLS))
    assert failed(result) == ("tls", "certificate-name")
    assert "mail.other.example" in " ".join(result.failure.problem.actions)  # type: ignore[union-attr]


def test_wrong_password_is_one_login_and_suggests_an_app_password(starttls: FaultServer) -> None:
    result = run(settings(starttls, Security.STARTTLS, password=Secret("zle-haslo")))
    assert failed(result) == ("auth", "auth-failed")
    explained = result.failure.problem  # type: ignore[union-attr]
    assert any("app password" in a and "OAuth2" in a for a in explained.actions)
    assert starttls.handler.commands["AUTH"] == 1
    assert starttls.handler.commands["MAIL"] == 0
    assert "zle-haslo" not in "\n".join(result.lines())


def test_no_login_method_without_tls(tmp_path: Path) -> None:
    with FaultServer(users=USERS, tmp=tmp_path, timeout=10) as server:  # plain: AUTH hidden
        result = run(settings(server, Security.NONE))
    assert failed(result) == ("auth", "auth-unavailable")
    assert statuses(result)["tls"] == "ok"  # no encryption, but only to this computer


def test_sender_address_rejected_suggests_reply_to(starttls: FaultServer) -> None:
    starttls.handler.replies["MAIL"] = ["553 5.7.1 Sender address rejected: not owned by user"]
    result = run(settings(starttls, Security.STARTTLS))
    assert failed(result) == ("envelope", "sender-rejected")
    assert any("Reply-To" in a for a in result.failure.problem.actions)  # type: ignore[union-attr]
    assert starttls.stored == []


def test_relay_denied(starttls: FaultServer) -> None:
    starttls.handler.refuse["ktos@elsewhere.example.org"] = "554 5.7.1 Relay access denied"
    result = run(settings(starttls, Security.STARTTLS), probe=["ktos@elsewhere.example.org"])
    assert failed(result) == ("envelope", "relay-denied")
    assert starttls.stored == []


def test_greeting_refused(tmp_path: Path) -> None:
    handler = FaultHandler(greeting="421 4.3.2 Too many connections, try later")
    with FaultServer(handler, tls="starttls", users=USERS, tmp=tmp_path, timeout=10) as server:
        result = run(settings(server, Security.STARTTLS))
    assert failed(result) == ("tls", "greeting-refused")
    assert "421" in result.failure.detail  # type: ignore[union-attr]


def test_server_that_never_greets_times_out(tmp_path: Path) -> None:
    with FaultServer(FaultHandler(greeting="stall"), tmp=tmp_path, timeout=10) as server:
        result = run(settings(server, Security.NONE, username="", password=None, timeout_ms=500))
    assert failed(result) == ("tls", "timeout")


def test_slow_reply_during_the_probe_times_out(starttls: FaultServer) -> None:
    starttls.handler.stall["RCPT"] = [3.0]
    result = run(settings(starttls, Security.STARTTLS, timeout_ms=1000))
    assert failed(result) == ("envelope", "timeout")
