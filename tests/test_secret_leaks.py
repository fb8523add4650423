"""Two users and a global account, each with a marker password: it shows up nowhere it must not."""

from __future__ import annotations

import asyncio
import base64
import logging
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_server import FaultServer
from users import Users

from mailkit.accounts import Account
from mailkit.bundle import export_bundle
from mailkit.cli import main
from mailkit.config import Secret, Security, SmtpSettings
from mailkit.diagnostics import diagnose_account
from mailkit.errors import MailkitError, SecretError
from mailkit.saved_accounts import account_for_sending, get_account, list_accounts, save_account
from mailkit.store import Scope

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Users]:
    group = Users(tmp_path, monkeypatch)
    yield group
    group.close()


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Everything every library logs, at DEBUG, into one file."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def forms(marker: str, login: str) -> list[bytes]:
    """The marker as text and as the AUTH PLAIN / LOGIN payloads a log could carry."""
    plain = base64.b64encode(f"\0{login}\0{marker}".encode())
    return [marker.encode(), plain, base64.b64encode(marker.encode())]


def smtp_account(server: FaultServer, name: str, login: str, **changes: object) -> Account:
    smtp = SmtpSettings(
        "localhost",
        server.port,
        Security.STARTTLS,
        login,
        ca_bundle=server.ca_bundle,
        timeout_ms=3000,
    )
    return Account(name, login, smtp).replace(**changes)


def test_markers_appear_in_no_store_log_export_traceback_or_notebook(
    users: Users,
    tmp_path: Path,
    debug_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    markers = {who: f"MARKER-{who}-{uuid.uuid4().hex}" for who in ("global", "anna", "bartek")}
    logins = {
        "global": "biuro@example.com",
        "anna": "anna@example.com",
        "bartek": "bartek@example.com",
    }
    server = FaultServer(
        users={logins[w]: markers[w] for w in markers}, tmp=tmp_path, tls="starttls"
    )
    with server:
        anna = users.become("anna")
        save_account(
            anna,
            smtp_account(server, "Firma", logins["global"], default=True),
            Scope.GLOBAL,
            secrets={"smtp.password": Secret(markers["global"])},
        )
        save_account(
            anna,
            smtp_account(server, "Anny", logins["anna"]),
            Scope.PERSONAL,
            secrets={"smtp.password": Secret(markers["anna"])},
        )
        # Bartek saves his through the command line, the password from a variable.
        bartek = users.become("bartek")
        monkeypatch.setenv("MAILKIT_STORE", str(users.store_path))
        monkeypatch.setenv("BARTKA", markers["bartek"])
        assert (
            main(
                [
                    "account",
                    "add",
                    "Bartka",
                    "--address",
                    logins["bartek"],
                    "--smtp-host",
                    "localhost",
                    "--smtp-port",
                    str(server.port),
                    "--smtp-user",
                    logins["bartek"],
                    "--smtp-ca-bundle",
                    str(server.ca_bundle),
                    "--password-env",
                    "BARTKA",
                ]
            )
            == 0
        )
        # Use every account: good logins, a test message, and a refused login (535).
        for name in ("Firma", "Bartka"):
            (result,) = asyncio.run(
                diagnose_account(account_for_sending(bartek, name), send_test=True)
            )
            assert result.ok, result.lines()
        server.handler.users[logins["global"]] = "changed-on-the-server"
        (refused,) = asyncio.run(diagnose_account(account_for_sending(bartek, "Firma")))
        assert refused.failure is not None
        assert refused.failure.name == "auth"
        assert main(["test-connection", "Firma", "--no-imap"]) == 1
        assert main(["account", "show", "Firma"]) == 0
        assert main(["config", "export", str(tmp_path / "cli-export.toml")]) == 0
    export_bundle(anna, tmp_path / "api-export.toml")
    export_bundle(bartek, tmp_path / "bartek-export.toml")
    printed = capsys.readouterr()

    # Bartek can neither see nor use Anna's personal secret; "Show" refuses the global one.
    assert "Anny" not in {s.account.name for s in list_accounts(bartek)}
    with pytest.raises(SecretError):
        bartek.reveal_secret("Firma", Scope.GLOBAL, "smtp.password")
    texts = [printed.out, printed.err]
    texts += [repr(s) for s in list_accounts(anna)] + [repr(account_for_sending(anna, "Anny"))]
    # Tracebacks of errors raised while a secret was in use carry no secret.
    users.global_key.unlink()
    for call in (lambda: account_for_sending(bartek, "Firma"), lambda: get_account(bartek, "Anny")):
        try:
            call()
        except MailkitError as err:
            texts.append("".join(traceback.format_exception(err)))
    notebooks = ROOT / "notebooks"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    files += list(notebooks.rglob("*.ipynb")) if notebooks.exists() else []
    assert any(p.name == "settings.sqlite3" for p in files)
    assert debug_log.stat().st_size > 0
    blobs = [p.read_bytes() for p in files] + [t.encode() for t in texts]
    for who, marker in markers.items():
        for form in forms(marker, logins[who]):
            leaks = [str(p) for p, b in zip(files, blobs, strict=False) if form in b]
            assert not leaks, f"{who}'s password found in {leaks}"
            assert not any(form in b for b in blobs), f"{who}'s password printed or in a repr"
