"""The Accounts tab, headless: saving with write-only passwords, rights, scopes, tests."""

from __future__ import annotations

import asyncio
import html
import socket
from pathlib import Path

import pytest
from sendapp import open_app, until
from smtp_server import FaultHandler, FaultServer
from users import Users

from mailkit.accountform import ensure_sink_account
from mailkit.config import DsnNotify
from mailkit.i18n import language
from mailkit.saved_accounts import get_account
from mailkit.sink import Sink
from mailkit.store import Scope, SettingsStore
from mailkit.ui import AccountsTab, App, AppState, SendTab


def _fill(tab: AccountsTab, **smtp: object) -> None:
    form = tab.form
    form.name.value = "Kadry"
    form.sender_name.value = "Kadry i Płace"
    form.address.value = "kadry@hurtownia-baltyk.example.com"
    form.smtp.host.value = str(smtp.get("host", "smtp.hurtownia-baltyk.example.com"))
    form.smtp.port.value = int(smtp.get("port", 587))  # type: ignore[call-overload]
    form.smtp.security.value = str(smtp.get("security", "starttls"))
    form.smtp.username.value = str(smtp.get("username", "kadry"))


def _tab(state: AppState | None = None) -> AccountsTab:
    return AccountsTab(state or AppState(), SettingsStore())


def test_a_saved_password_is_cleared_from_the_field_and_kept_when_left_empty() -> None:
    tab = _tab()
    tab.new_button.click()
    _fill(tab)
    tab.form.smtp.password.value = "Tajne-Haslo-1"
    tab.save_button.click()
    assert "Account Kadry saved" in tab.notice.value, tab.notice.value
    assert tab.form.smtp.password.value == ""  # never left in the widget (or its state)
    assert "saved (entered by" in tab.form.smtp.saved.value
    store = tab.store
    assert store is not None
    assert "smtp.password" in store.secret_fields("Kadry", Scope.GLOBAL)
    assert b"Tajne-Haslo-1" not in store.path.read_bytes()
    tab.form.reply_to.value = "biuro@hurtownia-baltyk.example.com"
    tab.save_button.click()  # the password field is empty: the saved one stays
    assert store.use_secret("Kadry", Scope.GLOBAL, "smtp.password").reveal() == "Tajne-Haslo-1"  # type: ignore[union-attr]
    tab.form.smtp.show_button.click()  # the user who entered it may see it again
    assert "Tajne-Haslo-1" in tab.form.smtp.revealed.value
    tab.show_account()
    assert tab.form.smtp.revealed.value == ""


def test_an_oauth2_account_keeps_its_token_and_who_may_use_it(tmp_path: Path) -> None:
    """Two-step verification in the app: "Log in with" OAuth2 turns the SMTP password box
    into the token box (saved as oauth2.token), and Test SMTP logs in with XOAUTH2."""
    handler = FaultHandler(tokens={"Token-Markera-5"})  # no password logins
    with FaultServer(handler, tls="starttls", tmp=tmp_path, timeout=10) as server:
        tab = _tab()
        tab.new_button.click()
        _fill(tab, host="localhost", port=server.port, security="starttls",
              username="kadry@hurtownia-baltyk.example.com")  # fmt: skip
        tab.form.smtp.ca_bundle.value = str(server.ca_bundle)
        tab.form.owner.value = "beata"
        tab.form.users.value = "anna, @kadry"
        tab.form.auth.value = "oauth2"
        assert tab.form.smtp.password.description == "OAuth2 token"
        assert tab.form.imap.password.disabled
        tab.form.smtp.password.value = "Token-Markera-5"
        tab.test_smtp_button.click()
        shown = html.unescape(tab.checklist.value)
        assert 'data-step="auth"' in shown, shown
        assert server.handler.logins == [("XOAUTH2", "kadry@hurtownia-baltyk.example.com")]
        tab.save_button.click()
        assert "Account Kadry saved" in tab.notice.value, tab.notice.value
    store = tab.store
    assert store is not None
    assert set(store.secret_fields("Kadry", Scope.GLOBAL)) == {"oauth2.token"}
    saved = get_account(store, "Kadry", Scope.GLOBAL).account
    assert (saved.auth.value, saved.owner, saved.users) == ("oauth2", "beata", ("anna", "@kadry"))
    assert "saved (entered by" in tab.form.smtp.saved.value
    assert tab.form.auth.value == "oauth2" and tab.form.users.value == "anna, @kadry"
    assert b"Token-Markera-5" not in store.path.read_bytes()


def test_a_bad_field_is_named_and_nothing_is_saved() -> None:
    tab = _tab()
    tab.new_button.click()
    _fill(tab, host="smtp.hurtownia-baltyk.example.com", port=25, security="none")
    tab.form.smtp.password.value = "Tajne-Haslo-1"
    tab.save_button.click()
    assert "clear text" in tab.notice.value and "mk-error" in tab.notice.value
    assert tab.form.smtp.password.value == ""
    assert tab.account.options[-1][1] == ""  # still only "new account"
    assert len(tab.account.options) == 1


def test_only_managers_change_shared_accounts_and_only_the_author_sees_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = Users(tmp_path, monkeypatch)
    try:
        anna = users.become("anna")  # the first user manages mail sending
        tab = AccountsTab(AppState(), anna)
        tab.new_button.click()
        _fill(tab)
        tab.form.smtp.password.value = "Haslo-Anny-1"
        tab.save_button.click()
        basia = users.become("basia")
        other = AccountsTab(AppState(), basia)
        assert other.scope.value == "global"
        assert "manage mail sending" in other.rights.value
        assert other.save_button.disabled and other.form.address.disabled
        assert other.form.smtp.show_button.disabled  # anna entered it, not basia
        other.guard(other.reveal)(other.form.smtp)  # called anyway: the core says no
        assert "only anna" in other.notice.value
        other.guard(other.save)()  # the core enforces the right, whatever the buttons say
        assert "only users with the right" in other.notice.value
        other.scope.value = "personal"
        assert not other.save_button.disabled and other.rights.value == ""
        other.load_scope_button.click()
        assert basia.selected_scope() is Scope.PERSONAL
    finally:
        users.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_test_smtp_on_a_closed_port_explains_the_failure() -> None:
    tab = _tab()
    tab.new_button.click()
    _fill(tab, host="127.0.0.1", port=_closed_port(), security="none", username="")
    seen: list[str] = []
    tab.checklist.observe(lambda c: seen.append(c["new"]), names="value")
    tab.test_smtp_button.click()  # outside a loop it runs to the end at once
    shown = html.unescape(tab.checklist.value)
    assert 'data-step="tcp"' in shown and "mk-step-failed" in shown
    assert "connection refused" in shown
    assert "Likely causes:" in shown and "What to do:" in shown
    assert "Connection test failed." in shown
    assert len(seen) >= 3  # the steps arrived one by one


def test_test_imap_steps_come_from_a_worker_thread_and_explain_a_tls_failure(
    tmp_path: Path,
) -> None:
    """The sink speaks SMTP, not IMAP over TLS: the TLS step (run in a thread) fails."""

    async def scenario() -> tuple[str, list[str]]:
        async with Sink(tmp_path / "sink", port=0) as sink:
            tab = _tab()
            tab.new_button.click()
            _fill(tab)
            tab.form.imap.host.value = "127.0.0.1"
            tab.form.imap.port.value = sink.port
            tab.form.imap.security.value = "tls"
            tab.form.imap.timeout.value = 3000
            seen: list[str] = []
            tab.checklist.observe(lambda c: seen.append(c["new"]), names="value")
            tab.test_imap_button.click()
            assert tab.task is not None
            await tab.task
            return tab.checklist.value, seen

    shown, seen = asyncio.run(scenario())
    shown = html.unescape(shown)
    assert 'data-step="tls"' in shown and "mk-step-failed" in shown
    assert "What to do:" in shown
    assert len(seen) >= 4


def test_saving_an_account_changes_the_sender_of_the_loaded_job(samples: Path) -> None:
    async def scenario() -> None:
        app: App = await open_app(samples)
        send = app.panel(SendTab)
        app.select(SendTab)
        assert send.sender.value == "job"  # no account yet: the job file's sender
        send.sender.value = "rules"
        await app.ready()
        assert "default sender" in send.sender_text.value
        tab = app.panel(AccountsTab)
        app.select(AccountsTab)
        tab.new_button.click()
        _fill(tab, host="127.0.0.1", port=2525, security="none", username="")
        tab.save_button.click()
        await app.ready()
        app.select(SendTab)
        assert "company account Kadry" in send.sender_text.value
        assert app.state.merge.identity.sender.addr_spec == "kadry@hurtownia-baltyk.example.com"

    asyncio.run(scenario())


def test_editing_keeps_what_the_form_does_not_show() -> None:
    with SettingsStore() as store:
        ensure_sink_account(store, 2525, "biuro@hurtownia-baltyk.example.com")
    tab = _tab()
    assert tab.account.value == "Local test sink"
    tab.form.sender_name.value = "Biuro (test)"
    tab.save_button.click()
    assert "saved" in tab.notice.value
    saved = get_account(tab.store, "Local test sink")  # type: ignore[arg-type]
    assert saved.account.owner == tab.store.user  # type: ignore[union-attr]
    assert saved.account.preset == "local-sink" and saved.account.sender_name == "Biuro (test)"


def test_deleting_an_account_asks_first() -> None:
    with SettingsStore() as store:
        ensure_sink_account(store, 2525, "biuro@hurtownia-baltyk.example.com")

    async def scenario() -> AccountsTab:
        tab = _tab()
        tab.delete_button.click()
        await until(lambda: tab.confirm.asking)
        assert "Delete account Local test sink" in html.unescape(tab.confirm.question.value)
        tab.confirm.no.click()
        await tab.task
        assert tab.account.value == "Local test sink"  # kept
        tab.delete_button.click()
        await until(lambda: tab.confirm.asking)
        tab.confirm.yes.click()
        await tab.task
        return tab

    tab = asyncio.run(scenario())
    assert "deleted" in tab.notice.value
    assert [v for _label, v in tab.account.options] == [""]


def test_scope_and_notifications_are_named_in_polish_and_stored_as_values() -> None:
    with language("pl"):
        tab = _tab(AppState(language="pl"))
        tab.new_button.click()
        _fill(tab)
        box = tab.form.dsn[DsnNotify.ON_FAILURE]
        assert box.description == "przy niepowodzeniu"
        box.value = True
        tab.save_button.click()
        assert "(ustawienia wspólne)" in html.unescape(tab.notice.value), tab.notice.value
    assert tab.store is not None
    saved = get_account(tab.store, "Kadry", Scope.GLOBAL)
    assert {n.value for n in saved.account.dsn.notify} == {"OnFailure"}
