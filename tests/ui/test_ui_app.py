"""The app as a whole: language, privacy mode, background work, errors shown not raised."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import ipywidgets as w
import pytest

from mailkit import load_job, prepare
from mailkit.i18n import _, language
from mailkit.ui import App, AppState, ComposeTab, DataTab, PreviewTab, TemplatesTab, open_store
from mailkit.ui import checks as checks_module
from mailkit.ui import data_tab as data_module
from mailkit.ui.kit import Notice

TITLES = ("Data", "Templates", "Preview", "Send", "Log", "Compose", "Accounts")


def test_polish_by_default_and_the_environment_can_say_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MAILKIT_LANG")
    assert AppState().language == "pl"
    monkeypatch.setenv("MAILKIT_LANG", "en")
    assert AppState().language == "en"
    monkeypatch.setenv("MAILKIT_LANG", "de")
    assert AppState().language == "pl"


def test_switching_language_relabels_tabs_buttons_and_messages(app: App) -> None:
    data = app.panel(DataTab)
    app.language.value = "pl"
    assert app.state.language == "pl"
    with language("pl"):
        assert app.tabs.titles == tuple(_(m) for m in TITLES)
        assert data.load_button.description == _("Load")
        assert app.checks.summary.value  # the report summary is in Polish now
    assert "gotowych" in app.checks.summary.value
    app.language.value = "en"
    assert app.tabs.titles == TITLES
    assert data.load_button.description == "Load"
    assert "messages ready" in app.checks.summary.value
    assert [label for label, _v in data.findings.severity.options] == ["All", "Errors", "Warnings"]


def test_a_notice_and_the_column_form_follow_a_language_switch(samples: Path) -> None:
    made = App.create(samples, store=open_store())
    made.state.language = "pl"  # as Voila's pre-run kernel loads the sample, before any click
    made.load("overdue.toml")
    data = made.panel(DataTab)
    assert "Wczytano zadanie" in data.notice.value
    assert "(kwota)" in data.form.names["brutto"].value
    assert data.form.choosers["brutto"].options[0] == ("(nieużywane)", "")
    data.form.choosers["brutto"].value = ""  # a choice not applied yet must survive
    made.language.value = "en"
    assert "Loaded" in data.notice.value and "Wczytano" not in data.notice.value
    assert "(amount)" in data.form.names["brutto"].value
    assert data.form.choosers["brutto"].options[0] == ("(not used)", "")
    assert data.form.choosers["brutto"].value == ""
    assert data.form.choosers["numer"].value == "Numer faktury"


def test_a_notice_given_as_text_stays_as_it_is_and_a_cleared_one_stays_empty() -> None:
    notice = Notice()
    with language("pl"):
        notice.show(_("Load"), "ok")  # e.g. a server's reply: no function to write it again
    with language("en"):
        notice.relabel()
    assert "Wczytaj" in notice.value
    with language("pl"):
        notice.show(lambda: _("Load"), "ok")
    assert "Wczytaj" in notice.value
    with language("en"):
        notice.relabel()
    assert "Load" in notice.value and "mk-notice-ok" in notice._dom_classes
    notice.clear()
    with language("pl"):
        notice.relabel()
    assert notice.value == ""


def test_privacy_mode_masks_addresses_and_amounts_in_lists(app: App) -> None:
    data, preview = app.panel(DataTab), app.panel(PreviewTab)
    record = app.state.merge.records.records[0]
    address = record.values["email"].addr_spec
    assert address in data.customers.value
    app.privacy.value = True
    assert address not in data.customers.value
    assert "•••" in data.customers.value
    assert " zł" not in data.chart.value.replace("••• ", "")  # amounts masked, currency kept
    app.select(PreviewTab)
    assert address not in preview.position.value
    assert "•••" in preview.position.value
    app.select(ComposeTab)
    recipients = [label for label, _v in app.panel(ComposeTab).recipient.options]
    assert not any(address in label for label in recipients)
    app.privacy.value = False
    app.select(DataTab)
    assert address in data.customers.value


def test_an_unexpected_failure_is_a_message_not_a_traceback(
    app: App, monkeypatch: pytest.MonkeyPatch, callback_errors
) -> None:
    def broken(_choice: str, _store: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(data_module, "chosen_job", broken)
    app.panel(DataTab).load_button.click()
    shown = app.panel(DataTab).notice.value
    assert "RuntimeError" in shown
    assert "server log" in shown
    assert "Traceback" not in shown
    logged = callback_errors.records[0].exc_info
    assert logged is not None
    assert str(logged[1]) == "disk on fire"
    callback_errors.records.clear()


def test_the_fixture_catches_what_ipywidgets_swallows(callback_errors) -> None:
    button = w.Button()

    def fails(_button: w.Button) -> None:
        raise ValueError("swallowed")

    button.on_click(fails)
    button.click()  # ipywidgets logs the exception and carries on
    assert "Exception in callback" in callback_errors.problems()[0]
    callback_errors.records.clear()


def test_tabs_after_the_first_join_the_page_when_opened(app: App) -> None:
    templates = app.panel(TemplatesTab)
    assert app.panel(DataTab).children
    assert not templates.children
    app.select(TemplatesTab)
    assert templates.children
    assert templates.editor.subject == app.state.merge.job.template.subject


def test_a_tab_not_on_screen_catches_up_when_opened(app: App) -> None:
    preview = app.panel(PreviewTab)
    app.select(PreviewTab)
    assert preview.shown is not None
    first = preview.shown.key
    app.select(DataTab)
    app.state.row = app.state.merge.keys()[5]  # e.g. chosen on the Templates tab
    assert preview.shown.key == first  # no work for a tab nobody sees
    app.language.value = "pl"
    app.select(PreviewTab)
    assert preview.shown.key == app.state.merge.keys()[5]
    with language("pl"):
        assert _("Next ▶") == preview.next_button.description


def test_preflight_runs_in_the_background_with_progress_and_cancel(
    employees_job, callback_errors, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"]]
    rows += [[f"P{i}", "Jan", "Nowak", "", f"jan{i}@example.com", "100,00"] for i in range(4000)]
    merge = prepare(load_job(employees_job(rows)))

    def held_preflight(merge, *, progress, cancel):  # type: ignore[no-untyped-def]
        """The real preflight, held after its first progress report until Cancel is
        clicked, so a fast machine cannot finish all rows before the click lands."""

        def report(done: int, total: int) -> None:
            progress(done, total)
            deadline = time.monotonic() + 20
            while not cancel() and time.monotonic() < deadline:
                time.sleep(0.01)

        return real_preflight(merge, progress=report, cancel=cancel)

    real_preflight = checks_module.preflight
    monkeypatch.setattr(checks_module, "preflight", held_preflight)
    state = AppState()
    bar = App(state).checks

    async def scenario() -> list[int]:
        state.use(merge)  # a running loop: preflight goes to a worker thread
        assert bar.activity.running
        assert bar.activity.layout.display == "flex"
        seen = []
        while bar.activity.bar.value == 0:
            await asyncio.sleep(0.05)
        seen.append(bar.activity.bar.value)
        bar.activity.cancel_button.click()
        await bar.activity.task
        return seen

    seen = asyncio.run(scenario())
    assert 0 < seen[0] < 4000
    assert state.report is not None
    assert state.report.cancelled
    assert len(state.report.rows) < 4000
    assert "cancelled" in bar.summary.value
    assert bar.activity.layout.display == "none"
    assert "cancelled" in bar.notice.value


def test_ready_waits_for_loading_and_checking(samples: Path) -> None:
    made = App.create(samples, store=open_store())

    async def scenario() -> None:
        made.load("payslips.toml")
        assert made.state.merge is None  # still loading in a worker thread
        await made.ready()

    asyncio.run(scenario())
    assert made.state.merge is not None
    assert made.state.report is not None
    assert len(made.state.report.rows) == 60
