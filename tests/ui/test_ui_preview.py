"""The Preview tab: each message as its recipient sees it, moved through, found, checked."""

from __future__ import annotations

import html
import statistics

from mailkit import load_job, preflight, prepare
from mailkit.ui import App, AppState, PreviewTab


def test_previous_and_next_move_through_every_message_and_wrap(app: App) -> None:
    tab, keys = app.panel(PreviewTab), app.state.merge.keys()
    app.select(PreviewTab)
    assert app.state.row == keys[0]
    assert "Message 1 of 35" in tab.position.value
    tab.next_button.click()
    assert app.state.row == keys[1]
    assert tab.shown is not None
    assert tab.shown.key == keys[1]
    tab.prev_button.click()
    tab.prev_button.click()
    assert app.state.row == keys[-1]  # wraps around
    assert "Message 35 of 35" in tab.position.value


def test_find_by_recipient_name_or_address(app: App) -> None:
    tab = app.panel(PreviewTab)
    app.select(PreviewTab)
    record = app.state.merge.records.records[7]
    tab.search.value = record.values["email"].addr_spec.upper()
    assert app.state.row == record.key
    tab.search.value = "no such customer"
    assert app.state.row == record.key
    assert "No message goes to no such customer." in html.unescape(tab.notice.value)


def test_the_html_body_is_sandboxed_and_text_and_source_are_there(app: App) -> None:
    tab = app.panel(PreviewTab)
    app.select(PreviewTab)
    name = app.state.merge.records.records[0].values["kontrahent"]
    frame = tab.body.value
    assert frame.startswith('<iframe class="mk-frame" sandbox=""')
    assert "Content-Security-Policy" in html.unescape(frame)  # no remote images or fonts
    assert name in html.unescape(frame)
    assert "<script" not in html.unescape(frame).lower()
    headers = html.unescape(tab.headers.value)
    assert "Subject" in headers
    assert "Przypomnienie o płatności" in headers
    tab.format.value = "text"
    assert 'class="mk-text"' in tab.body.value
    assert html.escape(name) in tab.body.value
    tab.format.value = "eml"
    assert "Message-ID:" in tab.body.value
    assert "MIME-Version: 1.0" in tab.body.value


def test_attachments_are_listed_with_their_protection(app: App) -> None:
    tab = app.panel(PreviewTab)
    app.select(PreviewTab)
    assert tab.shown is not None
    for name, _type, _size, protection in tab.shown.attachments:
        assert html.escape(name) in tab.attachments.value
        assert (protection or "not protected") in tab.attachments.value
    if not tab.shown.attachments:
        assert "No attachments." in tab.attachments.value


def test_switching_rows_takes_well_under_200_ms(app: App) -> None:
    tab = app.panel(PreviewTab)
    app.select(PreviewTab)
    times = []
    for _step in range(10):
        tab.next_button.click()
        times.append(tab.elapsed_ms)
    assert statistics.median(times) <= 200, times


def test_findings_are_shown_next_to_the_message_they_concern(employees_job) -> None:
    rows = [
        ["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"],
        ["P1", "Zofia", "Wójcik", "02270803624", "zofia@example.com", "5 717,13"],
        ["P2", "Jan", "Kowalski", "85010112345", "jan@example.org, ewa@example.org", "48,00"],
    ]
    merge = prepare(load_job(employees_job(rows)))
    state = AppState()
    tab = PreviewTab(state)
    state.use(merge)
    assert "Preflight is still checking" in tab.row_findings.value
    state.report = preflight(merge)
    assert "No findings for this message." in tab.row_findings.value
    state.row = "P2"
    assert "E-mail" in tab.row_findings.value  # the column the finding names
    assert "mk-row-error" in tab.body.value  # no message could be built for this row
    assert "jan@example.org" in tab.row_findings.value
    state.privacy = True
    assert "jan@example.org" not in tab.row_findings.value
    assert "j•••@e•••.org" in tab.row_findings.value


def test_the_neighbours_are_built_ahead(app: App) -> None:
    tab, keys = app.panel(PreviewTab), app.state.merge.keys()
    app.select(PreviewTab)
    assert set(tab.ahead.ready) == {keys[-1], keys[1]}
    built = tab.ahead.ready[keys[1]].result(timeout=30)
    tab.next_button.click()
    assert tab.shown is built  # shown as built ahead, not built again
    assert set(tab.ahead.ready) == {keys[0], keys[2]}
    app.language.value = "pl"  # messages of errors follow the language: nothing is reused
    assert tab.shown is not built
    assert tab.shown.key == keys[1]
