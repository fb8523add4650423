"""The Send tab: what will be sent and how, who sends it, test runs, held rows, and the run."""

from __future__ import annotations

import asyncio
from html import escape
from typing import Any, ClassVar

import ipywidgets as w

from ..config import Secret
from ..data import Records
from ..enqueue import batch_id
from ..errors import ConfigError
from ..findings import format_finding
from ..i18n import N_, _
from ..identity import SenderIdentity, resolve_sender
from ..merge import Merge
from ..outboxlog import RowState
from ..overview import recipient
from ..privacy import mask_text
from ..protectview import protection_choice, protection_choices, reprotect
from ..sending import SendRequest, send_test
from ..sendview import (
    STATE_NAMES,
    destination_text,
    outbox_path,
    protection_text,
    reply_text,
    resend_request,
    rows_to_send,
    send_as,
    with_passwords,
)
from ..sentlog import batch_counts, keys_in_state
from ..store import SettingsStore
from ..transports.base import SendResult, SendStatus
from .dispatch import Dispatch
from .kit import Panel, button, choose, css, start
from .state import AppState

__all__ = ["SendTab"]

MODES = ((N_("Current row"), "current"), (N_("Selected rows"), "selected"), (N_("All rows"), "all"))
SENDERS = ((N_("the sender rules (saved accounts)"), "rules"), (N_("the job file"), "job"))
ROWS_OFFERED = 2000
SHOWN_ERRORS = 5


class SendTab(Panel):
    """Preflight summary, sender, rows, test sends, held rows' passwords, and the run itself."""

    title: ClassVar[str] = N_("Send")
    css_name: ClassVar[str] = "mk-send"

    def __init__(self, state: AppState, store: SettingsStore | None = None) -> None:
        super().__init__(state)
        self.store = store
        self.typed: dict[str, Secret] = {}  # passwords typed for held rows (never in a widget)
        self._typed_for: Records | None = None
        self.summary = css(w.HTML(), "mk-send-summary")
        self.sender = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-sender-mode")
        self.sender_text = css(w.HTML(), "mk-sender-rule")
        self.mode = css(w.ToggleButtons(), "mk-send-mode")
        self.selected = css(
            w.SelectMultiple(rows=8, layout=w.Layout(width="600px", display="none")),
            "mk-send-rows",
        )
        self.test_address = css(w.Text(layout=w.Layout(width="500px")), "mk-test-address")
        self.test_button = button("mk-send-test")
        self.redirect = css(w.Checkbox(indent=False, layout=w.Layout(width="auto")), "mk-redirect")
        self.protect_with = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-protect-with")
        self.protection = css(w.HTML(), "mk-protection")
        self.held = css(w.Dropdown(layout=w.Layout(width="500px")), "mk-held-row")
        self.password = css(w.Password(layout=w.Layout(width="500px")), "mk-row-password")
        self.password_button = button("mk-set-password")
        self.send_button = button("mk-send-button", primary=True)
        self.resend_button = button("mk-resend-unknown")
        self.dispatch = Dispatch(state, self.notice, self.labels, "send")
        self.test_task: asyncio.Future[Any] | None = None
        self._label()
        self._wire()
        self._initial_sender()

    def _label(self) -> None:
        lab = self.labels
        lab.text(self.sender, N_("Send as"))
        lab.options(self.sender, SENDERS)
        lab.options(self.mode, MODES)
        lab.text(self.selected, N_("Rows"))
        lab.text(self.test_address, N_("Test address"))
        lab.text(self.test_address, N_("your address (empty: the sender's)"), "placeholder")
        lab.text(self.test_button, N_("Send a test to me"))
        lab.text(self.redirect, N_("Redirect every message to the test address"))
        lab.text(self.protect_with, N_("Password from"))
        lab.text(self.held, N_("Held row"))
        lab.text(self.password, N_("Password"))
        lab.text(self.password_button, N_("Use this password"))
        lab.text(self.send_button, N_("Send"))
        lab.text(self.resend_button, N_("Send 'unknown' rows again…"))
        self.held_box = w.VBox(
            [self.held, w.HBox([self.password, self.password_button])],
            layout=w.Layout(display="none"),
        )
        self.children = [
            lab.heading(N_("Before sending")),
            self.summary,
            w.HBox([self.sender]),
            self.sender_text,
            lab.heading(N_("Attachment protection")),
            self.protect_with,
            self.protection,
            self.held_box,
            lab.heading(N_("Test first")),
            w.HBox([self.test_address, self.test_button]),
            self.redirect,
            lab.heading(N_("Send")),
            self.mode,
            self.selected,
            w.HBox([self.send_button, self.resend_button]),
            self.notice,
            self.dispatch,
        ]

    def _wire(self) -> None:
        self.on_change(self.sender, self.choose_sender)
        self.on_change(self.protect_with, self.choose_protection)
        self.on_change(self.mode, lambda _v: self.show_rows())
        self.on_click(self.send_button, self.send_rows)
        self.on_click(self.test_button, self.send_test)
        self.on_click(self.password_button, self.use_password)
        self.on_click(self.resend_button, self.resend_unknown)
        self.watch(["merge", "report", "identity", "journal", "privacy"], self.refresh)
        self.watch("accounts", self.accounts_changed)

    # -- who sends -----------------------------------------------------------------------

    def _rules(self) -> SenderIdentity | None:
        return resolve_sender(self.store) if self.store is not None else None

    def _initial_sender(self) -> None:
        """The sender rules when they find a saved account, else the job file's sender."""
        identity = self.guard(self._rules)()
        use_rules = identity is not None and identity.account is not None
        with self.quietly():
            self.sender.value = "rules" if use_rules else "job"
        self.state.identity = identity if use_rules else None

    def choose_sender(self, mode: str) -> None:
        """Send as the sender rules say, or as the job file says; the merge follows."""
        self.state.identity = self._rules() if mode == "rules" else None
        self._apply_sender()

    def accounts_changed(self) -> None:
        """Saved accounts changed: the sender rules may now give another sender."""
        if self.sender.value == "rules":
            identity = self._rules()
            if identity != self.state.identity:
                self.state.identity = identity
                self._apply_sender()
        self.refresh()

    def _apply_sender(self) -> None:
        merge = self.state.merge
        if merge is not None:
            self.state.use(send_as(merge, self.state.identity, self.store, self._typed(merge)))

    def _typed(self, merge: Merge) -> dict[str, Secret]:
        """The passwords typed for this table's held rows (forgotten with another table)."""
        if merge.records is not self._typed_for:
            self.typed, self._typed_for = {}, merge.records
        return self.typed

    # -- actions ---------------------------------------------------------------------------

    def _merge(self) -> Merge:
        merge = self.state.merge
        if merge is None:
            raise ConfigError(_("Load a job on the Data tab first."))
        return merge

    def _redirect(self) -> str:
        address = self.test_address.value.strip()
        if self.redirect.value and not address:
            raise ConfigError(_("Type the test address that every message should go to."))
        return address if self.redirect.value else ""

    def send_rows(self) -> None:
        """Send the chosen rows (real servers ask for a confirmation on the page first)."""
        merge = self._merge()
        keys = rows_to_send(merge, self.mode.value, self.state.row, self.selected.value)
        self.dispatch.start(merge, SendRequest(keys=keys, redirect=self._redirect()))

    def send_test(self) -> None:
        """The current row once, to the test address or the sender; nothing is journaled."""
        merge = self._merge()
        to = self.test_address.value.strip()
        work = send_test(merge.job, to=to, key=self.state.row, merge=merge)
        self.test_task = start(self.notice, work, lambda r: self._tested(r, to or None))

    def _tested(self, result: SendResult, to: str | None) -> None:
        merge = self.state.merge
        who = to or (str(merge.identity.sender) if merge else "")
        shown = mask_text(who) if self.state.privacy else who
        self.notice.show(
            lambda: reply_text(result, shown, test=True),
            "ok" if result.status is SendStatus.SENT else "error",
        )

    def choose_protection(self, choice: str) -> None:
        """Protect the attachments as chosen (a column, random, none); typed passwords go."""
        made = reprotect(self._merge(), choice)
        self.typed = {}
        self.state.use(made)
        self.notice.show(lambda: _("Attachment protection changed; checking again."), "ok")

    def use_password(self) -> None:
        """Protect a held row's files with the typed password (the field is emptied at once)."""
        typed, self.password.value = self.password.value, ""
        merge, key = self._merge(), self.held.value
        if not key:
            raise ConfigError(_("No row is held."), setting="password")
        if not typed:
            raise ConfigError(_("Type the password for row {key} first.").format(key=key))
        passwords = {**self._typed(merge), key: Secret(typed)}
        del typed
        made = with_passwords(merge, passwords)  # ConfigError: too short, not a held row
        self.typed = passwords
        self.state.use(made)
        self.notice.show(
            lambda: _(
                "Row {key} will be protected with the password you typed; checking again."
            ).format(key=key),
            "ok",
        )

    def resend_unknown(self) -> None:
        """Send rows whose outcome is unknown again, after a confirmation."""
        merge = self._merge()
        batch = batch_id(merge.job, redirect=self._redirect())
        keys = keys_in_state(outbox_path(merge.job), batch, RowState.UNKNOWN.value)
        request = resend_request(merge.job, batch, keys)
        ask = _(
            "{n} row(s) of batch '{batch}' are in state 'unknown': they may already have "
            "arrived. Send them again through {where}, with the same Message-ID (a recipient "
            "may get a second copy)?"
        ).format(n=len(keys), where=destination_text(merge.job), batch=batch)
        self.dispatch.start(merge, request, ask=ask)

    # -- drawing ---------------------------------------------------------------------------

    def show_rows(self) -> None:
        """Offer the rows to select (in "selected" mode only)."""
        merge = self.state.merge
        chosen = self.mode.value == "selected" and merge is not None
        self.selected.layout.display = "flex" if chosen else "none"
        if not chosen or merge is None:
            return
        options = []
        for record in merge.records.records[:ROWS_OFFERED]:
            who = recipient(record) or record.key
            options.append((f"{record.key} — {mask_text(who) if self.state.privacy else who}",
                            record.key))  # fmt: skip
        present = {r.key for r in merge.records.records}
        keep = [k for k in self.selected.value if k in present]
        with self.quietly():
            self.selected.options = options
            self.selected.value = tuple(keep)

    def refresh(self) -> None:
        """The summary, who sends, the protection and the held rows."""
        merge = self.state.merge
        self.show_rows()
        if merge is None:
            self.summary.value = self.sender_text.value = self.protection.value = ""
            self.held_box.layout.display = self.protect_with.layout.display = "none"
            return
        self.summary.value = self._summary(merge)
        self.sender_text.value = self._sender_text(merge)
        self._show_protection(merge)
        self._show_held(merge)

    def _summary(self, merge: Merge) -> str:
        report = self.state.report
        lines = []
        if report is None:
            lines.append(("pending", _("Preflight is still checking the messages.")))
        else:
            kind = "error" if report.errors else ("warning" if report.warnings else "ok")
            lines.append((kind, report.summary()))
            for finding in report.errors[:SHOWN_ERRORS]:
                text = format_finding(finding)
                lines.append(("error", mask_text(text) if self.state.privacy else text))
            if len(report.errors) > SHOWN_ERRORS:
                more = _("… and {n} more (see the Data tab)")
                lines.append(("error", more.format(n=len(report.errors) - SHOWN_ERRORS)))
        lines.append(
            ("info", _("Messages go to {where}.").format(where=destination_text(merge.job)))
        )
        batch = batch_id(merge.job)
        counts = batch_counts(outbox_path(merge.job), batch)
        done = ", ".join(f"{_(STATE_NAMES[s])}: {n}" for s in RowState if (n := counts.get(s)))
        text = _("Batch '{batch}' in the journal: {counts}.").format(
            batch=batch, counts=done or _("nothing sent yet")
        )
        lines.append(("info", text))
        self.resend_button.disabled = not counts.get(RowState.UNKNOWN)
        return "".join(f'<p class="mk-{k}">{escape(t)}</p>' for k, t in lines)

    def _sender_text(self, merge: Merge) -> str:
        identity = self.state.identity
        if identity is not None:
            text = identity.explain()
        else:
            text = _("Sent as the job file says: {sender}.").format(sender=merge.identity.sender)
        if self.state.privacy:
            text = mask_text(text)
        return f'<p class="mk-sender-explained">{escape(text)}</p>'

    def _show_protection(self, merge: Merge) -> None:
        choices = protection_choices(merge.job)
        self.protect_with.layout.display = "flex" if choices else "none"
        with self.quietly():
            choose(self.protect_with, choices, protection_choice(merge.job))
        self.protection.value = f"<p>{escape(protection_text(merge.job))}</p>"

    def _show_held(self, merge: Merge) -> None:
        held = merge.held()
        self.held_box.layout.display = "flex" if held else "none"
        with self.quietly():
            choose(self.held, [(key, key) for key in held], self.held.value)
        if held:
            note = _("{n} row(s) held: {rows}.").format(n=len(held), rows=", ".join(held[:20]))
            self.protection.value += f'<p class="mk-warning mk-held">{escape(note)}</p>'
