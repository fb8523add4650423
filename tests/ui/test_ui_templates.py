"""The Templates tab: editing with a macro palette, live preview, 32 KB counter, catalogue."""

from __future__ import annotations

import html

from mailkit import catalog
from mailkit.store import Scope
from mailkit.templates import HTML_LIMIT
from mailkit.ui import App, PreviewTab, TemplatesTab


def test_the_job_template_is_in_the_editor_with_a_live_preview(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    source = app.state.merge.job.template
    assert tab.editor.subject == source.subject
    assert tab.editor.html == source.html
    assert tab.row.value == app.state.row
    customer = app.state.merge.record(app.state.row).values["kontrahent"]
    assert customer in html.unescape(tab.preview.value)  # the sandboxed HTML, filled in
    tab.format.value = "text"
    tab.editor.subject = "Zaległość: {suma}"
    shown = html.unescape(tab.preview.value)
    assert "Subject: Zaległość: " in shown
    assert "{suma}" not in shown
    assert tab.error.value == ""


def test_an_unknown_macro_is_shown_inline_with_a_suggestion(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    tab.editor.text = "Dzień dobry {kontrahnet}"
    error = html.unescape(tab.error.value)
    assert "{kontrahnet}" in error
    assert "{kontrahent}" in error  # did you mean
    assert tab.notice.value == ""  # inline, not a failure of the tab


def test_the_palette_inserts_the_chosen_macro(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    offered = [e.text for e in tab.palette.entries]
    assert "{kontrahent}" in offered
    assert "{suma}" in offered
    assert "{miasto}" in offered
    assert any(t.startswith("{% for f in faktury %}") for t in offered)
    tab.palette.choice.value = offered.index("{miasto}")
    assert "Miasto" in tab.palette.about.value  # a mapped column says which header it reads
    tab.palette.target.value = "subject"
    tab.palette.insert_button.click()
    assert tab.editor.subject.endswith("{miasto}")
    assert tab.error.value == ""


def test_the_html_size_is_counted_against_32_kb(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    assert "mk-info" in tab.editor.size.value
    tab.editor.html = "<html><body>" + "x" * HTML_LIMIT + "</body></html>"
    assert "mk-error" in tab.editor.size.value
    assert "32 KB" in tab.editor.size.value
    assert "32 KB" in html.unescape(tab.error.value)  # compiling refuses it too


def test_use_for_this_job_changes_what_is_previewed_and_checked(app: App) -> None:
    tab, preview = app.panel(TemplatesTab), app.panel(PreviewTab)
    app.select(TemplatesTab)
    before = app.state.merge
    tab.editor.subject = "Pilne: {numery}"
    tab.apply_button.click()
    assert app.state.merge is not before
    assert app.state.merge.job.template.subject == "Pilne: {numery}"
    app.select(PreviewTab)
    assert preview.shown is not None
    assert "Pilne: FV/" in dict(preview.shown.headers)["Subject"]
    assert app.state.report is not None  # checked again
    app.select(TemplatesTab)
    tab.editor.subject = "changed again"
    tab.revert_button.click()
    assert tab.editor.subject == "Pilne: {numery}"


def test_a_catalogue_template_is_inserted_and_a_new_one_saved(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    assert tab.kind.value == "przypomnienie"
    assert tab.listed[tab.stored.value].item.name == app.state.merge.job.template.name
    firm = next(
        t.item
        for t in catalog.list_templates(tab.store, type="przypomnienie")
        if t.item.language == "pl" and not t.item.default
    )
    tab.stored.value = [t.item for t in tab.listed].index(firm)
    tab.load_button.click()
    assert tab.editor.subject == firm.subject
    assert tab.error.value == ""
    tab.save_name.value = "Moje przypomnienie"
    tab.default.value = True
    tab.save_button.click()
    assert "Saved Moje przypomnienie." in tab.notice.value
    assert any(t.item.name == "Moje przypomnienie" for t in tab.listed)  # offered at once
    mine = catalog.get_template(tab.store, "Moje przypomnienie", Scope.PERSONAL)
    assert mine.origin == catalog.Origin.PERSONAL
    assert mine.item.default
    assert mine.item.subject == firm.subject
    tab.store.select_scope(Scope.PERSONAL)  # the user's own configuration now applies
    assert catalog.default_template(tab.store, "przypomnienie", "pl").item.name == mine.item.name


def test_saving_without_a_name_says_so(app: App) -> None:
    tab = app.panel(TemplatesTab)
    app.select(TemplatesTab)
    tab.save_name.value = "  "
    tab.save_button.click()
    assert "1 to 80 characters" in tab.notice.value
