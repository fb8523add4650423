"""The Compose tab: one message outside the batch, to a loaded employee or customer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import ipywidgets as w

from ..catalog import CatalogTemplate, Listed
from ..compose import compose, insert_template, save_draft, send_draft
from ..errors import ConfigError
from ..formatting import format_number
from ..i18n import N_, _
from ..merge import Merge
from ..message import Draft
from ..overview import recipient
from ..preview import view
from ..privacy import mask_text
from ..sending import ConfirmInfo
from ..sendview import reply_text, send_as
from ..store import SettingsStore
from ..transports.base import SendResult, SendStatus
from ..workbench import (
    catalogue_templates,
    chosen_sender,
    sender_choices,
    template_type,
    type_choices,
)
from .confirm import Confirm
from .editor import MessageEditor
from .html import message_frame, table, text_block
from .kit import Panel, button, choose, css, start
from .state import AppState

__all__ = ["ComposeTab"]

JOB_TEMPLATE = -1  # the template value that stands for the job's own template
RECIPIENTS_OFFERED = 2000


class ComposeTab(Panel):
    """Pick a recipient, the sender (an account, or as the Send tab chose), the message type
    and a template ("Insert" replaces the default text), add CC, BCC and files, preview, and
    write the message as an .eml draft or send it (a real server asks for a confirmation)."""

    title: ClassVar[str] = N_("Compose")
    css_name: ClassVar[str] = "mk-compose"

    def __init__(self, state: AppState, store: SettingsStore | None = None) -> None:
        super().__init__(state)
        self.store = store
        lab = self.labels
        self.recipient = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-recipient")
        self.sender = css(w.Dropdown(layout=w.Layout(width="600px")), "mk-compose-sender")
        self.kind = css(w.Dropdown(layout=w.Layout(width="460px")), "mk-compose-type")
        self.template = css(w.Dropdown(layout=w.Layout(width="500px")), "mk-compose-template")
        self.insert_button = button("mk-insert-template")
        self.cc = css(w.Text(layout=w.Layout(width="98%")), "mk-cc")
        self.bcc = css(w.Text(layout=w.Layout(width="98%")), "mk-bcc")
        self.editor = MessageEditor(lab, self.guard, prefix="mk-compose")
        self.attach = css(w.FileUpload(multiple=True, layout=w.Layout(width="auto")), "mk-attach")
        self.attached = css(w.HTML(), "mk-attached")
        self.clear_button = button("mk-clear-attachments")
        self.preview_button = button("mk-compose-preview")
        self.save_button = button("mk-save-draft")
        self.send_button = button("mk-compose-send", primary=True)
        self.confirm = Confirm(self.labels, "compose")
        self.shown = css(w.HTML(), "mk-compose-view")
        self.files: list[tuple[str, bytes]] = []
        self.listed: list[Listed[CatalogTemplate]] = []
        self._inserted: tuple[str, str, str] | None = None
        self._sent_as: tuple[Merge, str, Merge] | None = None  # (merge, account, sent through it)
        self._typed_for: Merge | None = None  # the merge whose template chose the type
        self.task: asyncio.Future[Any] | None = None
        self._label()
        self._wire()

    def _label(self) -> None:
        lab = self.labels
        for widget, msgid in (
            (self.recipient, N_("To")),
            (self.sender, N_("Sender")),
            (self.kind, N_("Type")),
            (self.template, N_("Template")),
            (self.insert_button, N_("Insert")),
            (self.cc, N_("CC")),
            (self.bcc, N_("BCC")),
            (self.attach, N_("Attach files")),
            (self.clear_button, N_("Remove attachments")),
            (self.preview_button, N_("Preview")),
            (self.save_button, N_("Save as .eml draft")),
            (self.send_button, N_("Send")),
        ):
            lab.text(widget, msgid)
        lab.text(self.cc, N_("addresses separated by commas"), "placeholder")
        lab.text(self.bcc, N_("addresses separated by commas"), "placeholder")
        self.children = [
            self.recipient,
            self.sender,
            self.kind,
            w.HBox([self.template, self.insert_button]),
            self.cc,
            self.bcc,
            self.editor,
            w.HBox([self.attach, self.clear_button]),
            self.attached,
            w.HBox([self.preview_button, self.save_button, self.send_button]),
            self.confirm,
            self.notice,
            self.shown,
        ]

    def _wire(self) -> None:
        self.on_change(self.recipient, lambda _v: self.recipient_chosen())
        self.on_change(self.sender, lambda _v: self.choose_sender())
        self.on_change(self.kind, lambda _v: self.list_templates())
        self.watch("language", self.list_choices)
        self.on_click(self.insert_button, self.insert)
        self.on_change(self.attach, self.attached_files)
        self.on_click(self.clear_button, self.clear_files)
        self.on_click(self.preview_button, self.preview)
        self.on_click(self.save_button, self.save)
        self.on_click(self.send_button, self.send_now)
        self.watch(["merge", "privacy"], self.list_recipients)

    def list_recipients(self) -> None:
        """Offer the loaded rows (employees or customers) and the templates for this job."""
        merge = self.state.merge
        self.notice.clear()
        self.shown.value = ""
        if merge is None:
            self.recipient.options = []
            return
        keep = self.recipient.value
        options = []
        for record in merge.records.records[:RECIPIENTS_OFFERED]:
            who = recipient(record) or record.key
            shown = mask_text(who) if self.state.privacy else who
            options.append((f"{record.key} — {shown}", record.key))
        with self.quietly():
            choose(self.recipient, options, keep)
            fresh, self._typed_for = merge is not self._typed_for, merge
            # a new job starts at its own template's type
            self.list_choices(template_type(self.store, merge.job.template.name) if fresh else None)
        self.recipient_chosen()

    def list_choices(self, kind: str | None = None) -> None:
        """Offer the accounts to send through and the message types, choosing ``kind`` (None:
        the choices kept), then that type's templates."""
        senders = [(_("as on the Send tab"), ""), *sender_choices(self.store)]
        types = [(_("all types"), ""), *type_choices(self.store, self.state.language)]
        with self.quietly():
            choose(self.sender, senders, self.sender.value)
            choose(self.kind, types, self.kind.value if kind is None else kind)
            self.list_templates()

    def choose_sender(self) -> None:
        """Send through the chosen account (its From and Reply-To), or as the Send tab chose."""
        self._merge()  # an account gone since it was listed is named now
        self.shown.value = ""

    def _merge(self) -> Merge | None:
        """The loaded rows as the chosen sender sends them (made once per merge and account)."""
        merge, value = self.state.merge, self.sender.value
        if merge is None or not value:
            return merge
        made = self._sent_as
        if made is None or made[0] is not merge or made[1] != value:
            made = (merge, value, send_as(merge, chosen_sender(value, self.store), self.store))
            self._sent_as = made
        return made[2]

    def list_templates(self) -> None:
        """The job's own template first, then the catalogue's templates (the chosen one kept)."""
        index = self.template.value
        kept = self.listed[index] if index is not None and 0 <= index < len(self.listed) else None
        self.listed = catalogue_templates(self.store, type=self.kind.value or None)
        options = [(_("the job's template (default)"), JOB_TEMPLATE)]
        options += [(f"{t.item.name} ({t.item.language})", i) for i, t in enumerate(self.listed)]
        at = [(t.item.name, t.origin) for t in self.listed]
        wanted = (kept.item.name, kept.origin) if kept is not None else None
        choose(self.template, options, at.index(wanted) if wanted in at else JOB_TEMPLATE)

    def reread(self) -> None:
        """Offer the accounts, types and templates saved since."""
        self.list_choices()

    def recipient_chosen(self) -> None:
        """A new recipient gets the default template, unless the text was edited by hand."""
        if self._inserted is None or self._inserted == self._current():
            self.insert(JOB_TEMPLATE)

    def _current(self) -> tuple[str, str, str]:
        ed = self.editor
        return (ed.subject, ed.text, ed.html)

    def insert(self, index: int | None = None) -> None:
        """Replace subject and bodies with the chosen template filled in for the recipient."""
        merge, key = self._merge(), self.recipient.value
        if merge is None or not key:
            return
        index = self.template.value if index is None else index
        chosen = self.listed[index].item if index is not None and index >= 0 else None
        source = chosen.source() if chosen is not None else None
        draft = insert_template(merge, key, source)
        self.editor.fill(draft.subject, draft.text, draft.html)
        self._inserted = self._current()
        self.shown.value = ""

    def attached_files(self, files: Any) -> None:
        """Keep the uploaded files for this message."""
        if not files:
            return
        self.files.extend((str(f["name"]), bytes(f["content"])) for f in files)
        self.attach.value = ()
        self._list_files()

    def clear_files(self) -> None:
        """Forget the attached files."""
        self.files = []
        self._list_files()

    def _list_files(self) -> None:
        rows = [[name, f"{format_number(len(data))} B"] for name, data in self.files]
        self.attached.value = table([_("File"), _("Size")], rows) if rows else ""

    def draft(self) -> Draft:
        """The message as it stands in the form; MailkitError says what is missing or wrong."""
        merge, key = self._merge(), self.recipient.value
        if merge is None or not key:
            raise ConfigError(_("Load a job on the Data tab and choose a recipient first."))
        ed = self.editor
        return compose(
            insert_template(merge, key),
            subject=ed.subject,
            text=ed.text,
            html=ed.html,
            cc=self.cc.value,
            bcc=self.bcc.value,
            files=self.files,
        )

    def preview(self) -> None:
        """Show the message as the recipient will see it."""
        shown = view(self.draft())
        rows = [[name, value] for name, value in shown.headers]
        if shown.bcc:
            rows.append([_("Bcc (envelope only)"), ", ".join(shown.bcc)])
        files = [
            [n, t, f"{format_number(s)} B", p or _("not protected")]
            for n, t, s, p in shown.attachments
        ]
        body = message_frame(shown.html) if shown.html else text_block(shown.text)
        parts = [table([_("Header"), _("Value")], rows), body]
        if files:
            parts.append(table([_("File"), _("Type"), _("Size"), _("Protection")], files))
        self.shown.value = "".join(parts)

    def save(self) -> None:
        """Write the message as an unsent .eml draft next to the job's output."""
        draft = self.draft()
        merge = self._merge()
        assert merge is not None
        folder = ((merge.job.destination.folder or merge.job.base / "out") / "compose").resolve()

        def saved(path: Path) -> None:
            self.notice.show(lambda: _("Saved the draft {path}").format(path=str(path)), "ok")

        self.task = start(self.notice, save_draft(draft, folder), saved)

    def send_now(self) -> None:
        """Send the message now (not journaled); a real server asks for a confirmation."""
        draft = self.draft()
        merge = self._merge()
        assert merge is not None

        async def confirm(info: ConfirmInfo) -> bool:
            text = _(
                "This message will be sent through {where} as {user}. This is a real mail "
                "server: the recipient gets it. Send now?"
            ).format(where=info.where, user=info.user or "-")
            return await self.confirm.ask(text)

        self.task = start(self.notice, send_draft(merge, draft, confirm), self._sent)

    def _sent(self, result: SendResult | None) -> None:
        if result is None:
            self.notice.show(lambda: _("Not confirmed: nothing was sent."), "warning")
            return
        to = self.recipient.label or ""
        self.notice.show(
            lambda: reply_text(result, to),
            "ok" if result.status is SendStatus.SENT else "error",
        )
