"""'Test IMAP' against a real Dovecot on 127.0.0.1 (tests/dovecot.py): steps and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from dovecot import Dovecot

from mailkit.config import ImapSettings, Secret, Security
from mailkit.diagnostics import Diagnosis, diagnose_imap


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def run(settings: ImapSettings) -> Diagnosis:
    return asyncio.run(diagnose_imap(settings))


def failed(result: Diagnosis) -> tuple[str, str]:
    step = result.failure
    assert step is not None, result.lines()
    assert step.problem is not None
    return step.name, step.problem.code


@pytest.mark.parametrize("security", [Security.TLS, Security.STARTTLS])
def test_login_folders_and_special_folders(dovecot: Dovecot, security: Security) -> None:
    result = run(dovecot.settings(security=security))
    assert result.ok, result.lines()
    assert [s.status.value for s in result.steps] == ["ok"] * 6
    assert {"INBOX", "Sent", "Drafts"} <= set(result.steps[4].data["folders"])
    assert result.steps[5].data == {"sent": "Sent", "drafts": "Drafts"}
    assert result.steps[2].data["tls_version"] in ("TLSv1.2", "TLSv1.3")


def test_wrong_password() -> None:
    # A server of its own: Dovecot slows down later logins from an address that failed one.
    with Dovecot() as server:
        result = run(server.settings(password=Secret("zle-haslo")))
    assert failed(result) == ("imap-login", "auth-failed")
    assert statuses_after(result, "imap-login") == ["skipped", "skipped"]
    assert "zle-haslo" not in "\n".join(result.lines())


def statuses_after(result: Diagnosis, name: str) -> list[str]:
    names = [s.name for s in result.steps]
    return [s.status.value for s in result.steps[names.index(name) + 1 :]]


def test_starttls_on_the_imaps_port(dovecot: Dovecot) -> None:
    settings = dovecot.settings(security=Security.STARTTLS, port=dovecot.tls_port, timeout_ms=1000)
    assert failed(run(settings)) == ("tls", "expects-tls")


def test_tls_on_the_starttls_port(dovecot: Dovecot) -> None:
    assert failed(run(dovecot.settings(port=dovecot.port))) == ("tls", "expects-plain")


def test_untrusted_certificate(dovecot: Dovecot) -> None:
    assert failed(run(dovecot.settings(ca_bundle=None))) == ("tls", "certificate-untrusted")


def test_configured_folder_that_does_not_exist(dovecot: Dovecot) -> None:
    result = run(dovecot.settings(sent_folder="Elementy wysłane"))
    assert result.ok  # a warning, not a failure: sending still works
    special = result.steps[5]
    assert special.status.value == "warning"
    assert special.problem is not None
    assert "Sent" in " ".join(special.problem.actions)
