"""Sender resolution: own account, company account (send-as or Reply-To), default sender."""

from __future__ import annotations

from pathlib import Path

import pytest
from users import Users, account

from mailkit.identity import (
    BUILTIN_SENDER,
    SenderRule,
    account_identity,
    apply_identity,
    resolve_sender,
    set_default_sender,
    set_user_address,
)
from mailkit.job import load_job
from mailkit.merge import prepare
from mailkit.saved_accounts import list_accounts, save_account
from mailkit.store import Scope

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    group = Users(tmp_path, monkeypatch)
    yield group
    group.close()


def test_default_sender_with_the_users_reply_to(users: Users) -> None:
    anna = users.become("anna")
    ident = resolve_sender(anna)
    assert ident.rule is SenderRule.DEFAULT_SENDER
    assert str(ident.sender) == BUILTIN_SENDER
    assert ident.reply_to == ()
    set_user_address(anna, "anna.nowak@firma.example.com", "Anna Nowak")
    set_default_sender(anna, "Firma <automat@firma.example.com>")
    ident = resolve_sender(anna)
    assert ident.sender.addr_spec == "automat@firma.example.com"
    assert [a.addr_spec for a in ident.reply_to] == ["anna.nowak@firma.example.com"]
    assert ident.account is None
    assert "anna.nowak@firma.example.com" in ident.explain()


def test_company_account_without_send_as_puts_the_user_in_reply_to(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Firma", "biuro@firma.example.com", cc="archiwum@firma.example.com"),
        Scope.GLOBAL,
    )
    bartek = users.become("bartek")
    set_user_address(bartek, "bartek@firma.example.com")
    ident = resolve_sender(bartek)
    assert ident.rule is SenderRule.COMPANY_REPLY_TO
    assert ident.sender.addr_spec == "biuro@firma.example.com"
    assert [a.addr_spec for a in ident.reply_to] == ["bartek@firma.example.com"]
    assert [a.addr_spec for a in ident.cc] == ["archiwum@firma.example.com"]
    assert ident.account == "Firma"
    assert "may not send as other addresses" in ident.explain()


def test_company_account_with_send_as_sends_as_the_user(users: Users) -> None:
    anna = users.become("anna")
    save_account(anna, account("Firma", "biuro@firma.example.com", send_as=True), Scope.GLOBAL)
    save_account(anna, account("Druga", "druga@firma.example.com"), Scope.GLOBAL)
    bartek = users.become("bartek")
    set_user_address(bartek, "bartek@firma.example.com", "Bartek Wiśniewski")
    # Two shared accounts and none marked default: the company account is not guessed.
    assert resolve_sender(bartek).rule is SenderRule.DEFAULT_SENDER
    save_account(
        anna, account("Firma", "biuro@firma.example.com", send_as=True, default=True), Scope.GLOBAL
    )
    ident = resolve_sender(bartek)
    assert ident.rule is SenderRule.COMPANY_ACCOUNT
    assert str(ident.sender) == "Bartek Wiśniewski <bartek@firma.example.com>"
    assert ident.reply_to == ()


def test_own_account_comes_first(users: Users) -> None:
    anna = users.become("anna")
    save_account(anna, account("Firma", "biuro@firma.example.com", default=True), Scope.GLOBAL)
    save_account(
        anna, account("Agent Bartek", "bartek@firma.example.com", owner="bartek"), Scope.GLOBAL
    )  # a per-agent account set up by the manager
    bartek = users.become("bartek")
    ident = resolve_sender(bartek)
    assert ident.rule is SenderRule.OWN_ACCOUNT
    assert ident.account == "Agent Bartek"
    cezary = users.become("cezary")
    save_account(
        cezary, account("Moja", "cezary@poczta.example.com", sender_name="Cezary"), Scope.PERSONAL
    )
    assert resolve_sender(cezary).rule is SenderRule.COMPANY_REPLY_TO  # scope still global
    cezary.select_scope(Scope.PERSONAL)
    ident = resolve_sender(cezary)
    assert ident.rule is SenderRule.OWN_ACCOUNT
    assert str(ident.sender) == "Cezary <cezary@poczta.example.com>"
    assert ident.scope is Scope.PERSONAL


def test_accounts_a_user_may_not_use_are_skipped(users: Users) -> None:
    anna = users.become("anna")
    save_account(
        anna,
        account("Kadry", "kadry@firma.example.com", default=True, users=("anna", "@kadry")),
        Scope.GLOBAL,
    )
    bartek = users.become("bartek")
    assert resolve_sender(bartek).rule is SenderRule.DEFAULT_SENDER
    anna.set_profiles("bartek", {"kadry"})
    assert resolve_sender(bartek).account == "Kadry"


def test_applied_identity_reaches_every_draft(users: Users) -> None:
    anna = users.become("anna")
    save_account(anna, account("Firma", "biuro@firma.example.com", default=True), Scope.GLOBAL)
    set_user_address(anna, "anna@firma.example.com")
    ident = resolve_sender(anna)
    job = apply_identity(load_job(ROOT / "data" / "jobs" / "payslips.toml"), ident)
    assert job.destination.spec.account == "Firma"  # type: ignore[union-attr]
    merge = prepare(job)
    draft = merge.draft(merge.records.records[0])
    assert draft.sender.addr_spec == "biuro@firma.example.com"
    assert [a.addr_spec for a in draft.reply_to] == ["anna@firma.example.com"]


def test_a_chosen_account_gets_the_rule_that_fits_it(users: Users) -> None:
    """The Compose tab's Sender list: any account the user may use, each sent as the rules say."""
    anna = users.become("anna")
    save_account(anna, account("Firma", "biuro@firma.example.com"), Scope.GLOBAL)
    save_account(anna, account("Kadry", "kadry@firma.example.com", send_as=True), Scope.GLOBAL)
    bartek = users.become("bartek")
    set_user_address(bartek, "bartek@firma.example.com")
    save_account(bartek, account("Moje", "bartek@poczta.example.com"), Scope.PERSONAL)
    chosen = {s.account.name: s for s in list_accounts(bartek, usable=True)}
    own = account_identity(bartek, chosen["Moje"])
    assert own.rule is SenderRule.OWN_ACCOUNT and own.account == "Moje"
    assert own.sender.addr_spec == "bartek@poczta.example.com"
    firm = account_identity(bartek, chosen["Firma"])
    assert firm.rule is SenderRule.COMPANY_REPLY_TO and firm.account == "Firma"
    assert [a.addr_spec for a in firm.reply_to] == ["bartek@firma.example.com"]
    payroll = account_identity(bartek, chosen["Kadry"])
    assert payroll.rule is SenderRule.COMPANY_ACCOUNT
    assert payroll.sender.addr_spec == "bartek@firma.example.com"  # sends as the user
