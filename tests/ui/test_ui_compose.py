"""The Compose tab: one message to a loaded customer or employee, written as an .eml draft."""

from __future__ import annotations

import asyncio
import html
from email import message_from_bytes, policy
from pathlib import Path

from sendapp import SENDER, open_app, sink_account

from mailkit.accounts import Account
from mailkit.config import Security, SmtpSettings
from mailkit.identity import set_user_address
from mailkit.saved_accounts import save_account
from mailkit.sentlog import captured
from mailkit.sink import Sink, read_message
from mailkit.store import Scope, SettingsStore
from mailkit.ui import App, ComposeTab, open_store


def test_a_recipient_gets_the_default_template_filled_in(app: App) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    record = app.state.merge.records.records[0]
    assert tab.recipient.value == record.key
    assert "FV/" in tab.editor.subject  # the job's template, filled in for this customer
    assert record.values["kontrahent"] in tab.editor.text
    tab.recipient.value = app.state.merge.keys()[3]
    assert app.state.merge.records.records[3].values["kontrahent"] in tab.editor.text


def test_insert_replaces_the_text_and_hand_edits_survive_a_new_recipient(app: App) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    firm = next(
        i for i, t in enumerate(tab.listed) if t.item.name == "Wezwanie do zapłaty (stanowcze)"
    )
    tab.template.value = firm
    tab.insert_button.click()
    assert tab.notice.value == ""
    assert "{" not in tab.editor.subject
    inserted = tab.editor.text
    assert inserted
    assert "{% for" not in inserted
    tab.editor.text = inserted + "\nDopisek od księgowej."
    tab.recipient.value = app.state.merge.keys()[2]
    assert tab.editor.text.endswith("Dopisek od księgowej.")  # typed text is never replaced


def test_a_template_that_needs_other_columns_says_which(app: App) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    assert tab.kind.value == "przypomnienie"  # the reminder job's type: its templates listed
    tab.kind.value = "pasek"  # the seed's "Type": another type's templates
    payslip = next(i for i, t in enumerate(tab.listed) if t.item.type == "pasek")
    tab.template.value = payslip
    tab.insert_button.click()
    assert "mk-error" in tab.notice.value
    assert "Unknown macro {okres}" in tab.notice.value  # the payslip's period column


def test_a_bad_cc_is_named_and_nothing_is_written(app: App) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    tab.cc.value = "szef@example.com, nie-adres"
    tab.preview_button.click()
    shown = html.unescape(tab.notice.value)
    assert shown.count("CC:") == 1
    assert "nie-adres" in shown
    assert tab.shown.value == ""


def test_preview_shows_cc_bcc_and_the_attached_files(app: App, uploaded) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    tab.cc.value = "szef@example.com"
    tab.bcc.value = "archiwum@example.com"
    tab.attach.value = uploaded(("umowa.pdf", b"%PDF-1.7 test"), ("notatka.txt", b"hello"))
    assert tab.attach.value == ()
    assert "umowa.pdf" in tab.attached.value
    tab.preview_button.click()
    shown = html.unescape(tab.shown.value)
    assert "szef@example.com" in shown
    assert "archiwum@example.com" in shown  # listed as envelope only
    assert "umowa.pdf" in shown
    assert "notatka.txt" in shown
    tab.clear_button.click()
    assert tab.files == []


def test_save_writes_an_unsent_eml_draft(app: App, uploaded, samples: Path) -> None:
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    tab.bcc.value = "archiwum@example.com"
    tab.attach.value = uploaded(("notatka.txt", b"hello"))

    async def click() -> None:
        tab.save_button.click()
        assert tab.task is not None
        await tab.task

    asyncio.run(click())
    assert "Saved the draft" in tab.notice.value
    drafts = list((samples.parent.parent / "out").rglob("*.eml"))
    assert len(drafts) == 1
    raw = drafts[0].read_bytes()
    assert raw.startswith(b"X-Unsent: 1\r\n")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None  # BCC is envelope only
    assert message["Subject"] == tab.editor.subject
    assert [p.get_filename() for p in message.iter_attachments()][-1] == "notatka.txt"


def test_the_sender_list_sends_through_the_chosen_account(samples: Path) -> None:
    """The seed's "Sender": a company account the user may use; From, Reply-To and the
    server follow the choice, and "as on the Send tab" goes back to the sender rules."""
    folder = samples.parent / "sink"

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)  # the user's own account: the Send tab's sender
            with SettingsStore() as store:
                smtp = SmtpSettings("127.0.0.1", sink.port, Security.NONE)
                payroll = Account("Kadry", "kadry@hurtownia-baltyk.example.com", smtp,
                                  owner="beata", sender_name="Dział kadr")  # fmt: skip
                save_account(store, payroll, Scope.GLOBAL)
                set_user_address(store, "anna@hurtownia-baltyk.example.com")
            app = await open_app(samples)
            tab = app.panel(ComposeTab)
            app.select(ComposeTab)
            assert tab.sender.value == ""
            assert "global:Kadry" in [v for _label, v in tab.sender.options]
            tab.sender.value = "global:Kadry"
            tab.preview_button.click()
            shown = html.unescape(tab.shown.value)
            assert "kadry@hurtownia-baltyk.example.com" in shown
            assert "anna@hurtownia-baltyk.example.com" in shown  # replies go to the user
            tab.send_button.click()
            await tab.task
            assert "sent" in tab.notice.value, tab.notice.value
            tab.sender.value = ""
            tab.send_button.click()
            await tab.task

    asyncio.run(scenario())
    first, second = (
        message_from_bytes(read_message(folder, c.id, envelope=False), policy=policy.default)
        for c in reversed(captured(folder))
    )
    assert first["From"].addresses[0].addr_spec == "kadry@hurtownia-baltyk.example.com"
    assert first["Reply-To"].addresses[0].addr_spec == "anna@hurtownia-baltyk.example.com"
    assert second["From"].addresses[0].addr_spec == SENDER  # the sender rules: own account


def test_the_type_list_filters_the_templates_and_a_new_job_brings_its_type(
    samples: Path,
) -> None:
    app = App.create(samples, store=open_store())
    app.load("overdue.toml")
    tab = app.panel(ComposeTab)
    app.select(ComposeTab)
    assert tab.kind.value == "przypomnienie"
    assert {t.item.type for t in tab.listed} == {"przypomnienie"}
    tab.kind.value = ""  # all types
    assert {"przypomnienie", "pasek"} <= {t.item.type for t in tab.listed}
    app.load("payslips.toml")
    assert tab.kind.value == "pasek"
    assert {t.item.type for t in tab.listed} == {"pasek"}
