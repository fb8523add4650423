"""The Accounts tab: the account form per scope, rights, write-only passwords, connection tests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from html import escape
from typing import Any, ClassVar

import ipywidgets as w

from ..accountform import (
    account_from_form,
    account_with_secrets,
    blank_form,
    form_values,
    secret_field,
)
from ..accounts import Account
from ..config import Secret
from ..diagnostics import diagnose_imap, diagnose_smtp
from ..errors import ConfigError, MailkitError
from ..formatting import format_decimal
from ..i18n import N_, _
from ..identity import resolve_sender
from ..labels import scope_label
from ..saved_accounts import SavedAccount, get_account, list_accounts, remove_account, save_account
from ..store import Scope, SettingsStore
from .account_form import AccountForm, ServerForm
from .checklist import Checklist
from .confirm import Confirm
from .kit import Panel, button, choose, css, start
from .state import AppState

__all__ = ["AccountsTab"]

SCOPES = ((N_("Shared by all users"), "global"), (N_("Only for me"), "personal"))
NEW = ""  # the account list's value for "a new account"
SHOWN_FOR = 30.0  # seconds a shown password stays on screen


class AccountsTab(Panel):
    """Accounts of the chosen scope in a form; Save, Delete, Test SMTP, Test IMAP."""

    title: ClassVar[str] = N_("Accounts")
    css_name: ClassVar[str] = "mk-accounts"

    def __init__(self, state: AppState, store: SettingsStore | None = None) -> None:
        super().__init__(state)
        self.store = store
        self.saved: SavedAccount | None = None
        self.typed: dict[str, Secret] = {}  # typed passwords kept until saved, never in widgets
        self.task: asyncio.Future[Any] | None = None
        self.scope = css(w.ToggleButtons(), "mk-scope")
        self.load_scope_button = button("mk-load-scope")
        self.rights = css(w.HTML(), "mk-rights")
        self.account = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-account")
        self.new_button = button("mk-new-account")
        self.delete_button = button("mk-delete-account")
        self.form = AccountForm(self.labels)
        self.save_button = button("mk-save-account", primary=True)
        self.test_smtp_button = button("mk-test-smtp")
        self.test_imap_button = button("mk-test-imap")
        self.checklist = Checklist()
        self.rule = css(w.HTML(), "mk-sender-rule-now")
        self.confirm = Confirm(self.labels, "delete", N_("Yes, delete"), N_("Keep it"))
        self._label()
        self._wire()
        if store is None:
            self.rights.value = '<p class="mk-error">{}</p>'.format(
                escape(_("The settings store cannot be opened: accounts cannot be saved here."))
            )
            return
        with self.quietly():
            self.scope.value = store.selected_scope().value
        self.guard(self.list_accounts)()

    def _label(self) -> None:
        lab = self.labels
        lab.options(self.scope, SCOPES)
        lab.text(self.load_scope_button, N_("Load the configuration for the selected scope"))
        lab.text(self.account, N_("Account"))
        lab.text(self.new_button, N_("New account"))
        lab.text(self.delete_button, N_("Delete"))
        lab.text(self.save_button, N_("Save"))
        lab.text(self.test_smtp_button, N_("Test SMTP"))
        lab.text(self.test_imap_button, N_("Test IMAP"))
        self.children = [
            w.HBox([self.scope, self.load_scope_button]),
            self.rights,
            self.rule,
            w.HBox([self.account, self.new_button, self.delete_button]),
            self.confirm,
            self.form,
            w.HBox([self.save_button, self.test_smtp_button, self.test_imap_button]),
            self.notice,
            self.checklist,
        ]

    def _wire(self) -> None:
        self.on_click(self.load_scope_button, self.load_scope)
        self.on_change(self.scope, lambda _v: self.list_accounts())
        self.on_change(self.account, lambda _v: self.show_account())
        self.on_click(self.new_button, self.new_account)
        self.on_click(self.delete_button, self.delete)
        self.on_click(self.save_button, self.save)
        self.on_click(self.test_smtp_button, self.test_smtp)
        self.on_click(self.test_imap_button, self.test_imap)
        self.on_change(self.form.auth, lambda _v: self._auth_changed())
        for server in (self.form.smtp, self.form.imap):
            self.on_click(server.show_button, functools.partial(self.reveal, server))
        self.watch("accounts", self.refresh)

    def _store(self) -> SettingsStore:
        if self.store is None:
            raise ConfigError(_("The settings store cannot be opened: accounts cannot be saved."))
        return self.store

    @property
    def chosen_scope(self) -> Scope:
        """The scope the toggle shows."""
        return Scope(self.scope.value)

    # -- listing and loading -----------------------------------------------------------------

    def load_scope(self) -> None:
        """The seed's "load the configuration for the selected scope": it applies from now on."""
        store = self._store()
        store.select_scope(self.chosen_scope)
        self.list_accounts()
        self.state.accounts += 1
        scope = self.chosen_scope
        self.notice.show(
            lambda: _("The {scope} configuration is loaded and applies to you now.").format(
                scope=scope_label(scope)
            ),
            "ok",
        )

    def list_accounts(self, keep: str | None = None) -> None:
        """The accounts saved in the chosen scope, then the first (or ``keep``) in the form."""
        self._offer_accounts(keep)
        self.show_account()

    def _offer_accounts(self, keep: str | None) -> None:
        names = [s.account.name for s in list_accounts(self._store(), self.chosen_scope)]
        options = [*((n, n) for n in names), (_("— new account —"), NEW)]
        wanted = keep if keep is not None else (self.account.value or (names[0] if names else NEW))
        with self.quietly():
            choose(self.account, options, wanted)

    def reread(self) -> None:
        """List the accounts saved since; the form keeps what is typed in it, unless its
        account was deleted meanwhile."""
        if self.store is None:
            return
        shown = self.account.value
        self._offer_accounts(shown)
        if self.account.value != shown:
            self.show_account()

    def show_account(self) -> None:
        """Fill the form with the chosen account (or an empty one); typed passwords are dropped."""
        store, name = self._store(), self.account.value
        self.typed, self.checklist.value = {}, ""
        self.saved = get_account(store, name, self.chosen_scope) if name else None
        self.form.fill(form_values(self.saved.account) if self.saved else blank_form())
        self.refresh()

    def new_account(self) -> None:
        """An empty form for a new account."""
        with self.quietly():
            self.account.value = NEW
        self.show_account()

    # -- saving --------------------------------------------------------------------------

    def _take_passwords(self) -> None:
        """Read the password fields into memory and empty them at once."""
        for server in (self.form.smtp, self.form.imap):
            typed, field = server.take_password(), self._field(server)
            if typed and field:
                self.typed[field] = Secret(typed)

    def _field(self, server: ServerForm) -> str | None:
        """The secret ``server``'s password box holds (with OAuth2: the token, in SMTP's)."""
        return secret_field(server.kind, self.form.auth.value)

    def save(self) -> None:
        """Save the form; an empty password field keeps the saved password."""
        store, scope = self._store(), self.chosen_scope
        self._take_passwords()
        account = account_from_form(self.form.values())
        same = self.saved is not None and self.saved.account.name == account.name
        revision = self.saved.revision if same and self.saved is not None else 0
        saved = save_account(store, account, scope, secrets=self.typed, expected_revision=revision)
        self.list_accounts(keep=saved.account.name)
        self.state.accounts += 1
        self.notice.show(
            lambda: _("Account {name} saved ({scope}).").format(
                name=account.name, scope=scope_label(scope)
            ),
            "ok",
        )

    def delete(self) -> None:
        """Delete the chosen account and its passwords, after a confirmation."""
        saved = self.saved
        if saved is None:
            raise ConfigError(_("Choose a saved account first."))
        scope = self.chosen_scope
        ask = _("Delete account {name} ({scope}) and its saved passwords?").format(
            name=saved.account.name, scope=scope_label(scope)
        )

        async def confirmed() -> bool:
            return await self.confirm.ask(ask)

        def done(yes: bool) -> None:
            if yes:
                remove_account(self._store(), saved.account.name, scope)
                self.list_accounts(keep=NEW)
                self.state.accounts += 1
                self.notice.show(
                    lambda: _("Account {name} deleted.").format(name=saved.account.name)
                )

        self.task = start(self.notice, confirmed(), self.guard(done))

    # -- tests ---------------------------------------------------------------------------

    def _account_to_test(self) -> Account:
        self._take_passwords()
        account = account_from_form(self.form.values())
        return account_with_secrets(self._store(), account, self.chosen_scope, self.typed)

    def test_smtp(self) -> None:
        """DNS, TCP, TLS, EHLO, login and a MAIL/RCPT probe; nothing is sent."""
        acc = self._account_to_test()
        s = acc.smtp
        self.checklist.begin(_("Test SMTP: {host}:{port}").format(host=s.host, port=s.port))
        work = diagnose_smtp(
            s, acc.sender(), cc=acc.cc_addresses(), bcc=acc.bcc_addresses(),
            on_step=self.checklist.add,
        )  # fmt: skip
        self.task = start(self.notice, work, self.checklist.end)

    def test_imap(self) -> None:
        """DNS, TCP, TLS, login, the folders, and where Sent and Drafts are."""
        acc = self._account_to_test()
        if acc.imap is None:
            raise ConfigError(_("Fill in the IMAP server first."), setting="imap.host")
        s = acc.imap
        self.checklist.begin(_("Test IMAP: {host}:{port}").format(host=s.host, port=s.port))
        work = diagnose_imap(s, on_step=self.checklist.add)  # steps come from a worker thread
        self.task = start(self.notice, work, self.checklist.end)

    def reveal(self, server: ServerForm) -> None:
        """Show a saved password, only to the user who entered it, for a short while."""
        saved, field = self.saved, self._field(server)
        if saved is None or field is None:
            raise ConfigError(_("Only a saved password can be shown."), setting=field)
        secret = self._store().reveal_secret(saved.account.name, saved.scope, field)
        note = _("hidden again in {s} s").format(s=format_decimal(SHOWN_FOR))
        shown = f'<code class="mk-secret">{escape(secret.reveal())}</code>'
        server.revealed.value = f"{shown} <small>{escape(note)}</small>"
        with contextlib.suppress(RuntimeError):  # no loop (tests): stays until the form changes
            asyncio.get_running_loop().call_later(SHOWN_FOR, _hide, server)

    # -- drawing -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rights, password states and which sender rule applies now."""
        if self.store is None:
            return
        store = self.store
        locked = False
        if self.chosen_scope is Scope.GLOBAL:
            try:
                store.require_manage()
            except MailkitError as err:
                locked = True
                self.rights.value = f'<p class="mk-warning mk-no-right">{escape(err.message)}</p>'
        if not locked:
            self.rights.value = ""
        self.form.lock(locked)
        self.save_button.disabled = self.delete_button.disabled = locked
        self.delete_button.disabled = locked or self.saved is None
        for server in (self.form.smtp, self.form.imap):
            self._password_state(server)
        identity = resolve_sender(store)
        self.rule.value = f'<p class="mk-info">{escape(identity.explain())}</p>'

    def _auth_changed(self) -> None:
        """A password or an OAuth2 token: the password boxes and their states follow."""
        self.form.show_auth()
        for server in (self.form.smtp, self.form.imap):
            self._password_state(server)

    def _password_state(self, server: ServerForm) -> None:
        field = self._field(server)
        entered = self.saved.secrets.get(field) if self.saved is not None and field else None
        if field is None:
            text = ""
        elif field in self.typed:
            text = _("typed; saved with Save")
        elif entered:
            text = _("saved (entered by {user})").format(user=entered)
        else:
            text = _("not saved")
        server.saved.value = f"<small>{escape(text)}</small>"
        assert self.store is not None
        server.show_button.disabled = entered != self.store.user


def _hide(server: ServerForm) -> None:
    server.revealed.value = ""
