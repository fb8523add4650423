"""A job whose [destination] names a saved account: settings and password come from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.accounts import Account
from mailkit.cli import main
from mailkit.cli.common import EXIT_OK, EXIT_STOPPED, EXIT_USAGE
from mailkit.config import DsnNotify, DsnOptions, RateLimits, Secret, Security, SmtpSettings
from mailkit.errors import ConfigError
from mailkit.job import load_job
from mailkit.saved_accounts import save_account
from mailkit.store import Scope, SettingsStore

MARKER = "Haslo-Konta-5d1e"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILKIT_STORE", str(tmp_path / "settings.sqlite3"))
    monkeypatch.setenv("MAILKIT_OUTBOX", str(tmp_path / "outbox.sqlite3"))
    monkeypatch.setenv("JUPYTERHUB_USER", "kasia")


def test_send_through_a_saved_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(
        tls="starttls", users={"kadry@firma.example.com": MARKER}, tmp=tmp_path, timeout=10
    ) as server:
        smtp = SmtpSettings(
            "localhost",
            server.port,
            Security.STARTTLS,
            "kadry@firma.example.com",
            ca_bundle=server.ca_bundle,
            timeout_ms=3000,
        )
        with SettingsStore() as store:
            save_account(
                store,
                Account("Kadry", "kadry@firma.example.com", smtp),
                Scope.PERSONAL,
                secrets={"smtp.password": Secret(MARKER)},
            )
        job = write_job(
            tmp_path, people(3), rest='[destination]\nkind = "smtp"\naccount = "Kadry"\n'
        )
        assert main(["send", str(job), "--yes"]) == EXIT_OK, capsys.readouterr()
        assert len(server.stored) == 3
        assert {s.login for s in server.stored} == {"kadry@firma.example.com"}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


def test_unknown_account_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = write_job(tmp_path, people(1), rest='[destination]\nkind = "smtp"\naccount = "Brak"\n')
    assert main(["send", str(job), "--yes"]) == EXIT_USAGE
    assert "there is no account Brak" in capsys.readouterr().err


def test_account_and_server_settings_together_are_refused(tmp_path: Path) -> None:
    job = write_job(
        tmp_path,
        people(1),
        rest='[destination]\nkind = "smtp"\naccount = "Kadry"\n'
        '[destination.smtp]\nhost = "smtp.example.com"\n',
    )
    with pytest.raises(ConfigError, match=r"destination\.account"):
        load_job(job)


def test_the_accounts_notifications_and_limits_apply_unless_the_job_sets_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mailkit send` asks for the account's DSN and keeps to its limits, as the app does."""
    with FaultServer(tmp=tmp_path, timeout=10) as server:
        server.handler.dsn = True
        smtp = SmtpSettings("127.0.0.1", server.port, Security.NONE, timeout_ms=3000)
        dsn = DsnOptions(frozenset({DsnNotify.ON_SUCCESS, DsnNotify.ON_FAILURE}), "FULL")
        with SettingsStore() as store:
            save_account(
                store,
                Account("Kadry", "kadry@firma.example.com", smtp, dsn=dsn,
                        limits=RateLimits(per_day=2, connections=1)),
                Scope.PERSONAL,
            )  # fmt: skip
        rest = '[destination]\nkind = "smtp"\naccount = "Kadry"\n'
        job = write_job(tmp_path, people(3), rest=rest)
        assert main(["send", str(job), "--yes"]) == EXIT_STOPPED, capsys.readouterr()
        assert "limit" in capsys.readouterr().out  # the third would break the daily limit
        assert len(server.stored) == 2
        for item in server.stored:
            assert "NOTIFY=FAILURE,SUCCESS" in item.rcpt_options
            assert "RET=FULL" in item.mail_options
        # The job's own [batch.dsn] and [batch.limits] win over the account's.
        rest += '[batch.dsn]\nnotify = ["OnFailure"]\n[batch.limits]\nper_day = 0\n'
        job = write_job(tmp_path, people(3), rest=rest)
        assert main(["send", str(job), "--yes", "--batch", "own"]) == EXIT_OK
        own = server.stored[2:]
        assert len(own) == 3
        assert all("NOTIFY=FAILURE" in s.rcpt_options for s in own)
        assert all("RET=FULL" not in s.mail_options for s in own)
