"""The app in a real browser: first paint, sample invoices, preview, language switch, upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from voilapage import open_app_page

import mailkit
from mailkit.i18n import _, language

# A kernel start, and a reload when Voila served an empty page (open_app_page), fit in 300 s.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_appears_on_opening_the_page(browser: Any, voila: Any, tmp_path: Path) -> None:
    """A fresh page shows the app's tabs (how fast: bench/app_bench.py --browser)."""
    voila.wait_warm()
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    open_app_page(page, voila.url)
    assert page.locator(".mk-tabs .lm-TabBar-tab").count() == 7
    page.screenshot(path=str(tmp_path / "first.png"))
    context.close()


def _sample_customer(index: int) -> tuple[str, str, str]:
    """Key, name and address of a reminder in the sample job (read with the core)."""
    merge = mailkit.prepare(mailkit.load_job(ROOT / "data" / "jobs" / "overdue.toml"))
    record = merge.records.records[index]
    return record.key, record.values["kontrahent"], record.values["email"].addr_spec


def test_sample_invoices_and_a_customer_preview(app_page: Any) -> None:
    page = app_page.page
    assert page.locator(".mk-customer-table tbody tr").count() == 35
    assert page.locator(".mk-age-chart svg rect.mk-bar").count() == 4
    key, name, address = _sample_customer(4)
    app_page.tab(2)
    page.wait_for_selector(".mk-position:has-text('35')")
    search = page.locator(".mk-search input")
    search.fill(name[:12])
    search.press("Enter")
    page.wait_for_selector(f".mk-position:has-text('{key}')")
    frame = page.locator(".mk-body iframe.mk-frame")
    assert frame.get_attribute("sandbox") == ""  # no scripts, forms, popups or same origin
    body = page.frame_locator(".mk-body iframe.mk-frame").locator("body")
    body.filter(has_text=name).wait_for()  # the frame reloads after the position changes
    assert "FV/2026/" in body.inner_text()
    headers = page.locator(".mk-headers").inner_text()
    assert address in headers
    assert "Przypomnienie o płatności" in headers
    with language("pl"):
        text_label = _("Text")
    page.locator(".mk-format button", has_text=text_label).click()
    page.wait_for_selector(".mk-body pre.mk-text")
    assert name in page.locator(".mk-body pre.mk-text").inner_text()
    app_page.shot("preview")


def test_next_shows_the_next_message(app_page: Any) -> None:
    """Each click on Next changes both the position line and the HTML body (the time it takes
    is measured by bench/app_bench.py --browser, not here)."""
    page = app_page.page
    app_page.tab(2)
    page.wait_for_selector(".mk-body iframe.mk-frame")
    shown = (
        "() => [document.querySelector('.mk-position').innerText,"
        " document.querySelector('.mk-body iframe').getAttribute('srcdoc')]"
    )
    seen = {page.evaluate(shown)[0]}
    for _step in range(3):
        before = page.evaluate(shown)
        page.locator("button.mk-next").click()
        page.wait_for_function(
            f"old => {{ const now = ({shown})(); return now[0] !== old[0] && now[1] !== old[1]; }}",
            arg=before,
        )
        seen.add(page.evaluate(shown)[0])
    assert len(seen) == 4


def test_language_switch_relabels_the_app(app_page: Any) -> None:
    page = app_page.page
    titles = page.locator(".mk-tabs .lm-TabBar-tab")
    msgids = ["Data", "Templates", "Preview", "Send", "Log", "Compose", "Accounts"]
    with language("pl"):
        polish = [_(m) for m in msgids]
        ready_pl = _(
            "{job}: {ready} of {total} messages ready, {errors} error(s), {warnings} warning(s)"
        )
    assert titles.all_inner_texts() == polish
    assert (
        ready_pl.split("{ready}")[1].split("{total}")[0].strip()
        in page.locator(".mk-preflight-summary").inner_text()
    )
    page.locator(".mk-language button", has_text="English").click()
    page.wait_for_selector(".mk-preflight-summary:has-text('messages ready')")
    assert titles.all_inner_texts() == msgids
    assert page.locator("button.mk-load-sample").inner_text() == "Load"
    app_page.shot("english")
    page.locator(".mk-language button", has_text="Polski").click()
    page.wait_for_function(
        "() => !document.querySelector('.mk-preflight-summary').innerText.includes('ready')"
    )
    assert titles.all_inner_texts() == polish


CUT_OFF = """() => [...document.querySelectorAll(
        '.mk-app .widget-label, .mk-app .widget-toggle-button')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText)"""


def test_no_label_or_toggle_button_is_cut_off_in_either_language(app_page: Any) -> None:
    page = app_page.page
    tabs = page.locator(".mk-tabs .lm-TabBar-tab")
    for name in ("Polski", "English"):
        page.locator(".mk-language button", has_text=name).click()
        for index in range(tabs.count()):
            app_page.tab(index)
            page.wait_for_selector(".mk-panel:visible")
            assert page.evaluate(CUT_OFF) == [], (name, tabs.nth(index).inner_text())
    app_page.tab(0)
    assert page.locator(".mk-data .mk-notice").inner_text().startswith("Loaded")


BAD_INVOICES = [
    [
        "Numer faktury",
        "NIP nabywcy",
        "Data wystawienia",
        "Termin płatności",
        "Kwota brutto",
        "Zapłacono",
    ],
    ["FV/2026/11/0001", "6176896933", "2026-11-02", "2026-11-09", "1200.00", "0.00"],
    ["FV/2026/11/0002", "1234567890", "2026-11-03", "2026-11-10", "300.00", "0.00"],
    ["FV/2026/11/0003", "6176896933", "2026-11-04", "2026-02-31", "300.00", "0.00"],
    ["FV/2026/11/0004", "6176896933", "2026-11-05", "2026-11-12", "trzysta", "0.00"],
    ["FV/2026/11/0004", "6176896933", "2026-11-05", "2026-11-12", "300.00", "0.00"],
]


def test_an_invalid_upload_shows_its_findings(app_page: Any, tmp_path: Path) -> None:
    page = app_page.page
    path = tmp_path / "faktury_listopad.csv"
    path.write_text("\n".join(",".join(row) for row in BAD_INVOICES) + "\n", encoding="utf-8")
    with page.expect_file_chooser() as chooser:  # the upload button opens a detached input
        page.locator("button.mk-upload").click()
    chooser.value.set_files(str(path))
    page.wait_for_selector(".mk-source:has-text('faktury_listopad.csv')")
    rows = page.locator(".mk-findings-view table.mk-findings tbody tr")
    rows.first.wait_for()
    report = page.locator(".mk-findings-view").inner_text()
    for column in ("NIP nabywcy", "Termin płatności", "Kwota brutto", "Numer faktury"):
        assert column in report, column
    with language("pl"):
        error = _("error")
    page.locator(".mk-filter-severity button").nth(1).click()  # errors only
    page.wait_for_function(
        "n => document.querySelectorAll('.mk-findings-view tbody tr').length <= n",
        arg=rows.count(),
    )
    assert all(t.startswith(error) for t in rows.all_inner_texts())
    page.locator(".mk-filter-column select").select_option("Kwota brutto")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mk-findings-view tbody tr')]"
        ".every(r => r.innerText.includes('Kwota brutto'))"
    )
    assert rows.count() >= 1
    app_page.shot("invalid-upload")
