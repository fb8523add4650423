"""A job whose [destination] names a saved account: settings and password come from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.accounts import Account
from mailkit.cli import main
from mailkit.cli.common import EXIT_OK, EXIT_USAGE
from mailkit.config import Secret, Security, SmtpSettings
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
