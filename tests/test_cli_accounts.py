"""The account, connection-test and configuration commands, run as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_server import FaultServer

from mailkit.cli import main
from mailkit.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE


@pytest.fixture(autouse=True)
def store(anna_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PW", "Haslo-Markera-77")
    return anna_store


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultServer]:
    users = {"kadry@example.com": "Haslo-Markera-77"}
    with FaultServer(tls="starttls", users=users, tmp=tmp_path, timeout=10) as srv:
        yield srv


def add(server: FaultServer, *extra: str) -> int:
    return main(
        [
            "account",
            "add",
            "Kadry",
            "--address",
            "kadry@example.com",
            "--smtp-host",
            "localhost",
            "--smtp-port",
            str(server.port),
            "--smtp-user",
            "kadry@example.com",
            "--smtp-ca-bundle",
            str(server.ca_bundle),
            "--smtp-timeout-ms",
            "3000",
            "--password-env",
            "PW",
            *extra,
        ]
    )


def test_add_list_show_edit_remove(server: FaultServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert add(server, "--cc", "kopia@example.com", "--scope", "global", "--default") == EXIT_OK
    assert main(["account", "list"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "Kadry\tkadry@example.com\tlocalhost:" in listed
    assert main(["account", "show", "Kadry"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "smtp.password = ******** saved (entered by anna)" in shown
    assert "cc = kopia@example.com" in shown
    assert "Haslo-Markera-77" not in shown
    assert main(["account", "edit", "Kadry", "--scope", "global", "--sender-name", "Kadry"]) == 0
    capsys.readouterr()
    assert main(["account", "list", "--filter", "nothing-like-it"]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert main(["account", "list", "--filter", "LOCALHOST"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("Kadry\t")
    assert main(["account", "remove", "Kadry", "--scope", "global"]) == EXIT_OK
    assert main(["account", "show", "Kadry"]) == EXIT_USAGE
    assert "there is no account Kadry" in capsys.readouterr().err


def test_an_oauth2_account_from_the_command_line_logs_in_with_its_token(
    server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two-step verification: `--auth oauth2` keeps a token (asked like a password, stored
    encrypted) and the connection test logs in with XOAUTH2, never with a password."""
    server.handler.users.clear()
    server.handler.tokens.add("Haslo-Markera-77")  # the PW variable holds the token here
    assert add(server, "--auth", "oauth2") == EXIT_OK
    assert main(["account", "show", "Kadry"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "auth = oauth2" in shown
    assert "oauth2.token = ******** saved (entered by anna)" in shown
    assert "Haslo-Markera-77" not in shown
    assert main(["test-connection", "Kadry", "--no-imap"]) == EXIT_OK
    assert server.handler.logins == [("XOAUTH2", "kadry@example.com")]
    server.handler.tokens.clear()  # the token expired
    assert main(["test-connection", "Kadry", "--no-imap"]) == EXIT_FINDINGS
    assert "[FAIL] Login (AUTH)" in capsys.readouterr().out


def test_bad_input_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["account", "add", "X", "--address", "zły adres", "--smtp-host", "h"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "account.address" in err
    assert "Traceback" not in err


def test_test_connection_of_a_saved_account(
    server: FaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(server) == EXIT_OK
    assert main(["test-connection", "Kadry", "--send-test"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "[ OK ] Login (AUTH): logged in as kadry@example.com" in printed
    assert "connection test passed" in printed
    assert len(server.stored) == 1
    server.handler.users["kadry@example.com"] = "changed"
    assert main(["test-connection", "Kadry"]) == EXIT_FINDINGS
    printed = capsys.readouterr().out
    assert "[FAIL] Login (AUTH)" in printed
    assert "app password" in printed
    assert "Haslo-Markera-77" not in printed


def test_ad_hoc_test_connection(server: FaultServer, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "test-connection",
            "--smtp-host",
            "localhost",
            "--smtp-port",
            str(server.port),
            "--smtp-security",
            "tls",
            "--smtp-timeout-ms",
            "2000",
            "--from",
            "kadry@example.com",
        ]
    )
    assert code == EXIT_FINDINGS
    assert "starts without TLS" in capsys.readouterr().out


def test_export_import_templates_types_scope(
    server: FaultServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert add(server, "--scope", "global") == EXIT_OK
    bundle = tmp_path / "bundle.toml"
    assert main(["config", "export", str(bundle)]) == EXIT_OK
    assert "Haslo-Markera-77" not in bundle.read_text("utf-8")
    monkeypatch.setenv("MAILKIT_STORE", str(tmp_path / "support.sqlite3"))
    monkeypatch.setenv("JUPYTERHUB_USER", "support")
    assert main(["config", "import", str(bundle)]) == EXIT_OK  # no terminal: nothing asked
    out = capsys.readouterr().out
    assert "imported 1 account(s)" in out
    assert "still missing: smtp.password of account Kadry" in out
    assert main(["templates", "--type", "przypomnienie", "--language", "pl"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert listed.count("przypomnienie") == 3
    assert main(["templates", "Payslip"]) == EXIT_OK
    assert "Subject: Your payslip for {okres}" in capsys.readouterr().out
    assert main(["types"]) == EXIT_OK
    assert "pit-11" in capsys.readouterr().out
    assert main(["me", "--address", "support@example.com"]) == EXIT_OK
    assert main(["scope", "personal"]) == EXIT_OK
    assert "Sent from your own account Kadry" in capsys.readouterr().out


def test_rights_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["users"]) == EXIT_OK  # anna opens the store first: she manages it
    assert "may manage mail sending: anna" in capsys.readouterr().out
    monkeypatch.setenv("JUPYTERHUB_USER", "bartek")
    assert main(["users", "grant", "bartek"]) == EXIT_USAGE
    assert "manage mail sending" in capsys.readouterr().err
    monkeypatch.setenv("JUPYTERHUB_USER", "anna")
    assert main(["users", "grant", "bartek"]) == EXIT_OK
    assert main(["users", "profiles", "bartek", "kadry,finanse"]) == EXIT_OK
    assert "anna, bartek" in capsys.readouterr().out
