"""Support's reproduction of a customer's configuration: the committed bundle, a private store,
the missing secrets, a real local stand-in server for the connection test, and a preview."""

from __future__ import annotations

import asyncio
import os
import re
import runpy
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailkit.bundle import export_bundle, read_bundle
from mailkit.config import Secret
from mailkit.diagnostics import Diagnosis
from mailkit.errors import ConfigError, MailkitError
from mailkit.preview import preview
from mailkit.reproduce import Reproduction, StandIn, open_bundle
from mailkit.signing import local_certificate

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "data" / "support" / "baltyk_bundle.toml"
JOB = "Przypomnienia o płatnościach"
MAKE_BUNDLE = ROOT / "data" / "make_bundle.py"


@pytest.fixture
def repro() -> Iterator[Reproduction]:
    opened = open_bundle(BUNDLE)
    yield opened
    opened.close()


def steps(diagnosis: Diagnosis) -> dict[str, str]:
    return {s.name: s.status.value for s in diagnosis.steps}


def test_the_committed_bundle_is_what_the_script_makes_and_holds_no_secret(
    tmp_path: Path,
) -> None:
    made = tmp_path / "bundle.toml"
    subprocess.run([sys.executable, str(MAKE_BUNDLE), str(made)], check=True, timeout=120)
    text = BUNDLE.read_text("utf-8")
    assert made.read_text("utf-8") == text
    assert runpy.run_path(str(MAKE_BUNDLE))["PASSWORD"] not in text  # saved with the account
    assert "gAAAAA" not in text  # no Fernet ciphertext either
    assert not re.search(r"(?im)^\s*\w*(password|token|secret)\w*\s*=", text)
    bundle = read_bundle(BUNDLE)
    (scope, kadry), *_others = bundle.accounts
    assert (scope.value, kadry.name, kadry.smtp.port, kadry.smtp.security.value) == (
        "global",
        "Kadry",
        587,
        "starttls",
    )
    assert kadry.smtp.username and kadry.reply_to and kadry.copy_to_self
    assert kadry.dsn.requested and len(bundle.templates) == 2 and bundle.jobs[0][1] == JOB


def test_a_private_store_lists_the_bundle_and_the_secret_it_lacks(
    repro: Reproduction, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    own = tmp_path / "support-own.sqlite3"
    monkeypatch.setenv("MAILKIT_STORE", str(own))
    kinds = [(r["kind"], r["name"]) for r in repro.contents()]
    assert ("account", "Kadry") in kinds and ("job", JOB) in kinds
    assert ("template", "Aneks do umowy") in kinds and ("type", "umowa") in kinds
    (need,) = repro.needs()
    assert (need.account, need.field) == ("Kadry", "smtp.password")
    assert need.login == "kadry@hurtownia-baltyk.example.com"
    assert need.host == "smtp.hurtownia-baltyk.example.com"
    with pytest.raises(ConfigError, match="import the bundle"):
        repro.account()
    result = repro.import_secrets({("Kadry", "smtp.password"): Secret("Haslo-Klienta-77")})
    assert result.accounts == ("Kadry",) and result.still_missing == ()
    assert repro.needs() == []
    assert repro.account("Kadry").smtp.password == Secret("Haslo-Klienta-77")
    assert b"Haslo-Klienta-77" not in repro.store.path.read_bytes()  # encrypted at rest
    assert repro.folder in repro.store.path.parents
    assert not own.exists()  # support's own settings store was never opened
    folder = repro.folder
    repro.close()
    assert not folder.exists()  # keys and secrets go with it


def test_a_secret_left_empty_stays_missing_and_the_account_says_so(repro: Reproduction) -> None:
    result = repro.import_secrets({("Kadry", "smtp.password"): Secret("")})
    assert [(n.account, n.field) for n in result.still_missing] == [("Kadry", "smtp.password")]
    with pytest.raises(ConfigError, match=r"Kadry has no saved smtp\.password") as err:
        repro.account()
    assert err.value.setting == "smtp.password"


def test_errors_name_the_account_setting_or_job(repro: Reproduction, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Kasa imap\.password") as err:
        repro.import_secrets({("Kasa", "imap.password"): Secret("x")})
    assert "Kadry smtp.password" in err.value.message
    with pytest.raises(ConfigError, match=re.escape("no job Faktury; its jobs: " + JOB)):
        repro.open_job("Faktury", ROOT / "data" / "jobs")
    with pytest.raises(
        MailkitError, match=r"cannot open .*overdue_friendly"
    ):  # not where it points
        repro.open_job(JOB, tmp_path)
    broken = tmp_path / "broken.toml"
    broken.write_text('mailkit_bundle = 1\n[[accounts]]\nname = "Kadry"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"accounts\[0\]"):
        open_bundle(broken)
    with pytest.raises(ConfigError, match="cannot read the bundle"):
        open_bundle(tmp_path / "missing.toml")


def test_the_stand_in_passes_with_its_ca_and_explains_an_untrusted_certificate(
    repro: Reproduction,
) -> None:
    kadry = repro.bundle.accounts[0][1]
    with StandIn(kadry) as stand_in:
        assert stand_in.login == kadry.smtp.username
        repro.import_secrets(stand_in.secrets())
        account = repro.account()
        untrusted = stand_in.point(account, trusted=False)
        assert untrusted.smtp.ca_bundle is None and untrusted.smtp.port == stand_in.port
        (failed,) = asyncio.run(repro.diagnose(untrusted))
        step = failed.failure
        assert step is not None and step.name == "tls" and step.problem is not None
        assert step.problem.code == "certificate-untrusted", failed.lines()
        assert "self-signed" in step.detail
        trusted = stand_in.point(account)
        assert trusted.smtp.host == "127.0.0.1" and trusted.smtp.ca_bundle == stand_in.certificate
        for setting in ("security", "username", "timeout_ms", "verify_certificates"):
            assert getattr(trusted.smtp, setting) == getattr(account.smtp, setting)
        assert trusted.replace(smtp=account.smtp) == account  # nothing else changed
        (passed,) = asyncio.run(repro.diagnose(trusted))
        assert passed.ok, passed.lines()
        assert steps(passed) == {
            "dns": "ok",
            "tcp": "ok",
            "tls": "ok",
            "ehlo": "ok",
            "auth": "ok",
            "envelope": "ok",
            "message": "skipped",
        }
        wrong = account.replace(smtp=account.smtp.replace(password=Secret("nie-to-haslo")))
        (refused,) = asyncio.run(repro.diagnose(stand_in.point(wrong)))
        assert refused.failure is not None and refused.failure.problem is not None
        assert refused.failure.problem.code == "auth-failed"
        port, folder = stand_in.port, stand_in.folder
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped: nothing listens any more
    assert not folder.exists()


def test_the_stand_in_takes_only_what_it_can_play(repro: Reproduction) -> None:
    kadry = repro.bundle.accounts[0][1]
    implicit = kadry.replace(smtp=kadry.smtp.replace(security="tls", port=465))
    with pytest.raises(ConfigError, match="Kadry: the stand-in speaks STARTTLS only"):
        StandIn(implicit)
    with pytest.raises(ConfigError, match="start the stand-in first"):
        StandIn(kadry).point(kadry)


def test_the_local_certificate_is_private_and_names_this_computer(tmp_path: Path) -> None:
    cert, key = local_certificate(tmp_path / "tls")
    assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700
    assert {cert.stat().st_mode & 0o777, key.stat().st_mode & 0o777} == {0o600}
    assert b"BEGIN CERTIFICATE" in cert.read_bytes() and b"PRIVATE KEY" in key.read_bytes()
    if os.geteuid() != 0:  # root may write anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(ConfigError, match="cannot write the local certificate"):
            local_certificate(tmp_path / "ro" / "tls")


def test_a_bundled_job_previews_its_first_row(repro: Reproduction) -> None:
    merge = repro.open_job(JOB, ROOT / "data" / "jobs")
    text = repro.preview(merge)
    assert "Subject: Przypomnienie o płatności" in text
    assert "From: Dział Należności <naleznosci@hurtownia-baltyk.example.com>" in text
    assert "Attachments:" in text
    second = repro.preview(merge, merge.keys()[1])
    assert second.splitlines()[1] != text.splitlines()[1]  # another recipient
    again = preview(merge, merge.keys()[1])
    assert _headers(second) == _headers(again)


def _headers(text: str) -> list[str]:
    """The preview's lines before the Message-ID, but the Date (a second may have passed)."""
    head = text.split("Message-ID", maxsplit=1)[0]
    return [line for line in head.splitlines() if not line.startswith("Date:")]


def test_an_export_of_the_imported_store_gives_the_bundle_back(repro: Reproduction) -> None:
    repro.import_secrets({("Kadry", "smtp.password"): Secret("Haslo-Klienta-77")})
    again = read_bundle(export_bundle(repro.store))
    original = read_bundle(BUNDLE)
    assert again.accounts == original.accounts
    assert sorted(t.name for _s, t in again.templates) == sorted(
        t.name for _s, t in original.templates
    )
    assert again.jobs == original.jobs
