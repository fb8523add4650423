"""The settings store: secrets at rest, keys, scopes, rights, trusted user, two processes."""

from __future__ import annotations

import asyncio
import os
import pwd
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
from cryptography.fernet import Fernet
from keyrings.alt.file import PlaintextKeyring
from users import Users, account

from mailkit.accounts import AuthMethod
from mailkit.catalog import CatalogTemplate, get_template, save_template
from mailkit.config import ImapSettings, Secret
from mailkit.errors import ConfigError, SecretError
from mailkit.saved_accounts import (
    account_for_sending,
    get_account,
    list_accounts,
    remove_account,
    save_account,
)
from mailkit.secrets import Keys
from mailkit.store import MANAGE_RIGHT, Scope, SettingsStore, current_user


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    group = Users(tmp_path, monkeypatch)
    yield group
    group.close()


def store_bytes(users: Users) -> bytes:
    folder = users.store_path.parent
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("settings"))


def test_saved_password_is_only_ciphertext(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Kadry", "kadry@firma.example.com"),
        Scope.GLOBAL,
        secrets={"smtp.password": Secret("Tajne-Haslo-123")},
    )
    assert b"Tajne-Haslo-123" not in store_bytes(users)
    token = sqlite3.connect(users.store_path).execute("SELECT token FROM secrets").fetchone()[0]
    assert token.startswith(b"gAAAAA")  # a Fernet token
    sending = account_for_sending(anna, "Kadry")
    assert sending.smtp.password is not None
    assert sending.smtp.password.reveal() == "Tajne-Haslo-123"
    assert "Tajne" not in repr(sending) + str(sending.smtp)


def test_missing_key_is_a_clear_error_never_plaintext(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Moje", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("p1")},
    )
    key_file = users.home("anna") / ".config" / "mailkit" / "keys" / "anna.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.unlink()
    with pytest.raises(SecretError) as err:
        account_for_sending(anna, "Moje")
    assert str(key_file) in str(err.value)
    assert "MAILKIT_SECRET_KEY" in str(err.value)
    # Saving another secret must not quietly make a new key while old secrets exist.
    with pytest.raises(SecretError):
        save_account(
            anna,
            account("Drugie", "anna@firma.example.com"),
            Scope.PERSONAL,
            secrets={"smtp.password": Secret("p2")},
        )


def test_wrong_key_is_named(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Kadry", "kadry@firma.example.com"),
        Scope.GLOBAL,
        secrets={"smtp.password": Secret("p1")},
    )
    users.global_key.write_bytes(Fernet.generate_key())
    with pytest.raises(SecretError, match="another key"):
        account_for_sending(anna, "Kadry")


def test_key_readable_by_others_is_refused(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Moje", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("p1")},
    )
    key_file = users.home("anna") / ".config" / "mailkit" / "keys" / "anna.key"
    key_file.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 0600"):
        account_for_sending(anna, "Moje")


def test_key_from_environment(users: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILKIT_SECRET_KEY", Fernet.generate_key().decode())
    anna = users.become("anna")
    save_account(
        anna,
        account("Moje", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("p1")},
    )
    assert not (users.home("anna") / ".config" / "mailkit" / "keys" / "anna.key").exists()
    assert account_for_sending(anna, "Moje").smtp.password == Secret("p1")
    monkeypatch.setenv("MAILKIT_SECRET_KEY", "not-a-key")
    broken = SettingsStore(users.store_path)
    with pytest.raises(SecretError, match="MAILKIT_SECRET_KEY"):
        account_for_sending(broken, "Moje")
    broken.close()


@pytest.fixture
def os_keyring() -> Iterator[Callable[[keyring.backend.KeyringBackend], None]]:
    """Choose the keyring backend for one test (keyring keeps its choice per process)."""
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_key_in_the_os_keyring_when_asked(
    users: Users, monkeypatch: pytest.MonkeyPatch, os_keyring: Callable[..., None]
) -> None:
    monkeypatch.setenv("MAILKIT_KEY_STORE", "keyring")
    anna = users.become("anna")
    os_keyring(PlaintextKeyring())  # a real file-backed keyring, under this test's HOME
    save_account(
        anna,
        account("Moje", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("p1")},
    )
    assert not (users.home("anna") / ".config" / "mailkit" / "keys" / "anna.key").exists()
    reopened = SettingsStore(users.store_path)
    assert account_for_sending(reopened, "Moje").smtp.password == Secret("p1")
    reopened.close()
    stored = list(users.home("anna").rglob("keyring_pass.cfg"))
    assert len(stored) == 1
    assert "[mailkit]" in stored[0].read_text()


def test_no_os_keyring_is_a_clear_error(
    users: Users, monkeypatch: pytest.MonkeyPatch, os_keyring: Callable[..., None]
) -> None:
    monkeypatch.setenv("MAILKIT_KEY_STORE", "keyring")
    anna = users.become("anna")
    os_keyring(keyring.backends.fail.Keyring())  # a headless server: no keyring at all
    with pytest.raises(SecretError, match="MAILKIT_KEY_STORE"):
        save_account(
            anna,
            account("Moje", "anna@firma.example.com"),
            Scope.PERSONAL,
            secrets={"smtp.password": Secret("p1")},
        )


def test_empty_password_on_save_keeps_the_saved_one(users: Users) -> None:
    anna = users.become("anna")
    acc = account("Kadry", "kadry@firma.example.com")
    save_account(anna, acc, Scope.GLOBAL, secrets={"smtp.password": Secret("first")})
    save_account(
        anna, acc.replace(sender_name="Kadry"), Scope.GLOBAL, secrets={"smtp.password": Secret("")}
    )
    assert account_for_sending(anna, "Kadry").smtp.password == Secret("first")


def test_show_reveals_a_password_only_to_who_entered_it(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Kadry", "kadry@firma.example.com"),
        Scope.GLOBAL,
        secrets={"smtp.password": Secret("anna-entered")},
    )
    assert anna.reveal_secret("Kadry", Scope.GLOBAL, "smtp.password").reveal() == "anna-entered"
    anna.grant("bartek")
    bartek = users.become("bartek")
    with pytest.raises(SecretError, match="only anna"):
        bartek.reveal_secret("Kadry", Scope.GLOBAL, "smtp.password")
    # Bartek may still send through the company account: use is not show.
    assert account_for_sending(bartek, "Kadry").smtp.password == Secret("anna-entered")


def test_user_b_can_neither_read_nor_use_a_personal_secret(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Anny", "anna@firma.example.com"),
        Scope.PERSONAL,
        secrets={"smtp.password": Secret("anna-only")},
    )
    bartek = users.become("bartek")
    assert [s.account.name for s in list_accounts(bartek)] == []
    with pytest.raises(ConfigError, match="no account Anny"):
        account_for_sending(bartek, "Anny")
    with pytest.raises(SecretError, match="only by anna"):
        Keys("bartek").cipher("anna")
    token, key_id = (
        sqlite3.connect(users.store_path)
        .execute("SELECT token, key_id FROM secrets WHERE owner='anna'")
        .fetchone()
    )
    own = Keys("bartek").cipher("bartek", create=True)
    with pytest.raises(SecretError):
        own.decrypt(token, key_id, "Anna's password")
    with pytest.raises(SecretError):
        own.decrypt(token, own.key_id, "Anna's password")  # even when lied about the key id


def test_global_settings_need_the_manage_right(users: Users) -> None:
    anna = users.become("anna")  # created the store: the first manager
    assert anna.can_manage()
    assert anna.managers() == ["anna"]
    bartek = users.become("bartek")
    assert not bartek.can_manage()
    with pytest.raises(ConfigError, match="manage mail sending"):
        save_account(bartek, account("Firma", "biuro@firma.example.com"), Scope.GLOBAL)
    with pytest.raises(ConfigError):
        bartek.grant("bartek")
    save_account(bartek, account("Moje", "bartek@firma.example.com"), Scope.PERSONAL)
    assert get_account(bartek, "Moje").account.owner == "bartek"
    anna.grant("bartek", MANAGE_RIGHT)
    save_account(bartek, account("Firma", "biuro@firma.example.com"), Scope.GLOBAL)
    bartek.revoke("anna")
    with pytest.raises(ConfigError, match="last user"):
        bartek.revoke("bartek")
    with pytest.raises(ConfigError):
        remove_account(anna, "Firma", Scope.GLOBAL)


def test_load_scope_recovers_an_overwritten_personal_configuration(users: Users) -> None:
    anna = users.become("anna")
    save_account(anna, account("Poczta", "biuro@firma.example.com"), Scope.GLOBAL)
    bartek = users.become("bartek")
    save_account(bartek, account("Poczta", "bartek@firma.example.com"), Scope.PERSONAL)
    bartek.select_scope(Scope.PERSONAL)
    assert bartek.effective("account")["Poczta"].body["address"] == "bartek@firma.example.com"
    bartek.select_scope(Scope.GLOBAL)  # "shared by all users" overrides his own
    assert bartek.effective("account")["Poczta"].body["address"] == "biuro@firma.example.com"
    bartek.select_scope(Scope.PERSONAL)  # ... and "load for the selected scope" brings it back
    mine = list_accounts(bartek, Scope.PERSONAL)
    assert [s.account.address for s in mine] == ["bartek@firma.example.com"]
    assert anna.effective("account")["Poczta"].body["address"] == "biuro@firma.example.com"


def test_stale_revision_is_refused(users: Users) -> None:
    anna = users.become("anna")
    first = save_account(anna, account("Kadry", "kadry@firma.example.com"), Scope.GLOBAL)
    other = SettingsStore(users.store_path)
    save_account(
        other,
        first.account.replace(sender_name="Kadry i Płace"),
        Scope.GLOBAL,
        expected_revision=first.revision,
    )
    with pytest.raises(ConfigError, match="changed by anna"):
        save_account(
            anna,
            first.account.replace(sender_name="Kadry"),
            Scope.GLOBAL,
            expected_revision=first.revision,
        )
    other.close()


def test_current_user_comes_from_the_hub_or_the_os_never_from_user_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    assert current_user() == pwd.getpwuid(os.geteuid()).pw_name
    monkeypatch.setenv("JUPYTERHUB_USER", "anna")
    assert current_user() == "anna"


def test_bad_account_settings_name_the_setting() -> None:
    with pytest.raises(ConfigError) as err:
        account("Zły", "not an address")
    assert err.value.setting == "account.address"
    with pytest.raises(ConfigError) as err:
        account("Zły", "a@firma.example.com", cc="ok@firma.example.com, nie-adres")
    assert err.value.setting == "account.cc"
    with pytest.raises(ConfigError) as err:
        account("Zły", "a@firma.example.com", preset="hotmail-2003")
    assert err.value.setting == "account.preset"


WORKER = """
import sys, time
from pathlib import Path
from mailkit.catalog import CatalogTemplate, get_template, save_template
from mailkit.errors import ConfigError
from mailkit.saved_accounts import save_account
from mailkit.accounts import Account
from mailkit.config import SmtpSettings, Secret
from mailkit.store import Scope, SettingsStore

me, rounds, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
store = SettingsStore(sys.argv[4])
while not go.exists():
    time.sleep(0.01)
conflicts = 0
for i in range(rounds):
    smtp = SmtpSettings("smtp.firma.example.com", username=f"{me}{i}@firma.example.com")
    acc = Account(f"{me}-{i}", f"{me}{i}@firma.example.com", smtp)
    save_account(store, acc, Scope.GLOBAL, secrets={"smtp.password": Secret(f"pw-{me}-{i}")})
    while True:  # read, change, save only if nobody saved in between
        current = get_template(store, "Licznik", Scope.GLOBAL)
        text = current.item.text + f"{me}-{i}\\n"
        try:
            save_template(store, CatalogTemplate("Licznik", "pasek", "Licznik", text), Scope.GLOBAL,
                          expected_revision=current.revision)
            break
        except ConfigError:
            conflicts += 1
print(conflicts)
"""


def test_two_processes_keep_the_store_consistent(users: Users, tmp_path: Path) -> None:
    anna = users.become("anna")
    save_template(anna, CatalogTemplate("Licznik", "pasek", "Licznik", "start\n"), Scope.GLOBAL)
    anna.grant("bartek")
    go = tmp_path / "go"
    rounds = 25
    procs = []
    for name in ("anna", "bartek"):
        env = dict(os.environ, JUPYTERHUB_USER=name, HOME=str(users.home(name)))
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, name, str(rounds), str(go), str(users.store_path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    go.touch()
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    start, *lines = get_template(anna, "Licznik", Scope.GLOBAL).item.text.splitlines()
    assert start == "start"
    expected = {f"{n}-{i}" for n in ("anna", "bartek") for i in range(rounds)}
    assert sorted(lines) == sorted(expected)  # no lost update, nothing twice
    assert get_template(anna, "Licznik", Scope.GLOBAL).revision == 2 * rounds + 1
    names = {s.account.name for s in list_accounts(anna, Scope.GLOBAL)}
    assert names == expected
    for name in ("anna-7", "bartek-24"):
        assert account_for_sending(anna, name).smtp.password == Secret(f"pw-{name}")
    db = sqlite3.connect(users.store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_an_oauth2_accounts_token_logs_in_to_smtp_and_imap(users: Users) -> None:
    """One saved token serves both servers (Sent copies over IMAP need it too)."""
    anna = users.become("anna")
    imap = ImapSettings("imap.firma.example.com", username="kadry@firma.example.com")
    oauth = account("Kadry", "kadry@firma.example.com", auth=AuthMethod.OAUTH2, imap=imap)
    save_account(anna, oauth, Scope.GLOBAL, secrets={"oauth2.token": Secret("ya29.Token-7")})
    sending = account_for_sending(anna, "Kadry")
    assert sending.smtp.oauth2 is not None and sending.imap is not None
    assert sending.imap.oauth2 is not None
    tokens = {asyncio.run(s.oauth2.token()) for s in (sending.smtp, sending.imap)}  # type: ignore[union-attr]
    assert tokens == {"ya29.Token-7"}
    assert sending.smtp.password is None and sending.imap.password is None
