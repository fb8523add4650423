"""The account form in plain values: validation naming the field, secrets for a test, the sink."""

from __future__ import annotations

from pathlib import Path

import pytest
from users import Users

from mailkit.accountform import (
    SINK_ACCOUNT,
    account_from_form,
    account_with_secrets,
    blank_form,
    ensure_sink_account,
    form_values,
)
from mailkit.config import Secret
from mailkit.errors import ConfigError
from mailkit.saved_accounts import get_account, save_account
from mailkit.store import Scope, SettingsStore


def _form(**changes: object) -> dict[str, object]:
    values = blank_form()
    values.update(name="Kadry", address="kadry@firma.example.com", sender_name="Kadry")
    values["smtp"] = {**values["smtp"], "host": "smtp.firma.example.com", "username": "kadry"}
    values.update(changes)
    return values


def test_a_form_becomes_an_account_and_back() -> None:
    account = account_from_form(_form(dsn=["OnFailure", "Delay"], preset="gmail"))
    assert account.imap is None  # no IMAP server typed: no IMAP part
    assert account.limits is None and account.rate_limits.per_day == 2000
    assert {n.value for n in account.dsn.notify} == {"OnFailure", "Delay"}
    limits = {"per_minute": 10, "per_hour": 0, "per_day": 0, "recipients_per_message": 0}
    own = account_from_form(_form(limits={**limits, "connections": 2}))
    assert own.rate_limits.per_minute == 10
    back = form_values(account)
    assert back["smtp"]["host"] == "smtp.firma.example.com"
    assert back["imap"]["host"] == ""  # an empty IMAP part for the form to fill


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"address": "nie-adres"}, "address"),
        ({"name": " "}, "name"),
        ({"dsn": ["Never", "Delay"]}, "Never"),
        ({"smtp": {"host": "smtp.firma.example.com", "port": 25, "security": "none",
                   "username": "kadry"}}, "clear text"),
    ],
)  # fmt: skip
def test_a_bad_field_is_named(changes: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        account_from_form(_form(**changes))


def test_a_test_uses_the_typed_password_else_the_saved_one() -> None:
    with SettingsStore() as store:
        account = account_from_form(_form())
        assert account_with_secrets(store, account, Scope.GLOBAL, {}).smtp.password is None
        save_account(store, account, Scope.GLOBAL, secrets={"smtp.password": Secret("zapisane")})
        tested = account_with_secrets(store, account, Scope.GLOBAL, {})
        assert tested.smtp.password == Secret("zapisane")
        typed = account_with_secrets(
            store, account, Scope.GLOBAL, {"smtp.password": Secret("wpisane")}
        )
        assert typed.smtp.password == Secret("wpisane")


def test_the_sink_account_is_made_once_shared_by_a_manager(tmp_path: Path) -> None:
    with SettingsStore() as store:
        first = ensure_sink_account(store, 2525, "biuro@firma.example.com")
        again = ensure_sink_account(store, 2525, "biuro@firma.example.com")
        moved = ensure_sink_account(store, 2600, "biuro@firma.example.com")
    assert first.scope is Scope.GLOBAL and first.account.name == SINK_ACCOUNT
    assert again.revision == first.revision  # nothing saved again
    assert moved.account.smtp.port == 2600
    assert first.missing == ()  # the sink takes no login: no secret needed


def test_a_user_without_the_right_gets_a_personal_sink_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = Users(tmp_path, monkeypatch)
    try:
        users.become("anna")  # the first user manages mail sending
        basia = users.become("basia")
        saved = ensure_sink_account(basia, 2525, "biuro@firma.example.com")
        assert saved.scope is Scope.PERSONAL
        assert basia.selected_scope() is Scope.PERSONAL  # so the sender rules find it
        assert get_account(basia, SINK_ACCOUNT).account.owner == "basia"
    finally:
        users.close()
