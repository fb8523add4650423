"""The Data tab: sample jobs, uploads, the column mapping, the report, the reminders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mailkit.saved_jobs import remove_job, save_job_file
from mailkit.store import Scope
from mailkit.ui import App, DataTab, PreviewTab, open_store

ROOT = Path(__file__).resolve().parents[2]
HEADERS = [
    "Numer faktury",
    "NIP nabywcy",
    "Data wystawienia",
    "Termin płatności",
    "Kwota brutto",
    "Zapłacono",
]


@pytest.fixture
def upload(uploaded):  # type: ignore[no-untyped-def]
    def send(tab: DataTab, name: str, data: bytes) -> None:
        tab.upload.value = uploaded((name, data))

    return send


def csv_bytes(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(delimiter.join(r) for r in rows) + "\r\n").encode(encoding)


def test_a_sample_job_shows_its_source_summary_customers_and_chart(app: App) -> None:
    tab = app.panel(DataTab)
    assert "invoices.csv" in tab.source.value
    assert "181" in tab.source.value
    assert "35 reminder(s) from 181 invoice(s) as of 22/11/2026" in tab.summary.value
    assert tab.customers.value.count("<tr>") == 36  # the header row and 35 reminders
    assert tab.chart.value.count('class="mk-bar"') == 4
    assert tab.form.mapping["nip"] == "NIP nabywcy"
    assert tab.form.as_of.value == dt.date(2026, 11, 22)
    assert "No findings." in tab.findings.table.value
    assert app.state.report is not None
    assert app.state.report.ok


def test_switching_to_the_payslips_hides_the_reminders(app: App) -> None:
    tab = app.panel(DataTab)
    tab.load_sample("payslips.toml")
    assert app.state.merge.job.kind == "rows"
    assert len(app.state.merge.keys()) == 60
    assert tab.overdue_box.layout.display == "none"
    assert "60 message(s), one per row." in tab.summary.value


def test_an_uploaded_csv_with_other_headers_is_mapped_and_checked(app: App, upload) -> None:
    tab = app.panel(DataTab)
    rows = [
        ["Nr faktury", "NIP", "Data dokumentu", "Termin", "Brutto", "Wpłacono"],
        ["FV/1", "6176896933", "01.10.2026", "08.10.2026", "1 200,00", "0,00"],
        ["FV/2", "1654614885", "02.10.2026", "09.10.2026", "300,00", "100,00"],
    ]
    upload(tab, "listopad.csv", csv_bytes(rows, ";", "cp1250"))
    assert tab.upload.value == ()  # the bytes are not kept in the widget
    assert tab.form.mapping == {
        "numer": "Nr faktury",
        "nip": "NIP",
        "z_dnia": "Data dokumentu",
        "termin": "Termin",
        "brutto": "Brutto",
        "zapłacono": "Wpłacono",
    }
    merge = app.state.merge
    assert merge.records.table.source == "listopad.csv"
    assert merge.keys() == ["6176896933", "1654614885"]
    assert "cp1250 · delimiter ;" in tab.source.value
    preview = app.panel(PreviewTab)
    app.select(PreviewTab)
    assert preview.shown is not None
    assert "FV/1" in preview.shown.text


def test_an_uploaded_workbook_is_read(app: App, upload) -> None:
    tab = app.panel(DataTab)
    upload(tab, "faktury.xlsx", (ROOT / "data" / "invoices.xlsx").read_bytes())
    assert app.state.merge.records.table.source == "faktury.xlsx"
    assert len(app.state.merge.keys()) > 0


def test_a_missing_required_column_asks_for_the_mapping(app: App, upload) -> None:
    tab = app.panel(DataTab)
    before = app.state.merge
    rows = [
        ["Faktura", "NIP nabywcy", "Termin płatności", "Kwota brutto"],
        ["FV/9", "6176896933", "2026-10-01", "99.00"],
    ]
    upload(tab, "bez_numeru.csv", csv_bytes(rows))
    assert app.state.merge is before
    assert "numer" in tab.notice.value
    assert "Apply mapping" in tab.notice.value
    tab.form.choosers["numer"].value = "Faktura"
    tab.apply_button.click()
    assert app.state.merge is not before
    assert app.state.merge.keys() == ["6176896933"]


def test_an_invalid_table_shows_findings_that_can_be_filtered(app: App, upload) -> None:
    tab = app.panel(DataTab)
    rows = [
        HEADERS,
        ["FV/1", "1234567890", "2026-10-01", "2026-10-08", "100.00", "0"],
        ["FV/2", "6176896933", "2026-10-01", "2026-02-31", "100.00", "0"],
        ["FV/3", "6176896933", "2026-10-01", "2026-10-08", "sto", "0"],
    ]
    upload(tab, "zle.csv", csv_bytes(rows))
    report = tab.findings.table.value
    for column in ("NIP nabywcy", "Termin płatności", "Kwota brutto"):
        assert column in report
    tab.findings.column.value = "Kwota brutto"
    assert "Kwota brutto" in tab.findings.table.value
    assert "NIP nabywcy" not in tab.findings.table.value
    tab.findings.column.value = "*"
    tab.findings.severity.value = "error"
    errors = tab.findings.selected()
    assert len(errors) >= 3
    assert all(f.blocking for f in errors)
    assert tab.findings.table.value.count("<tr>") == len(errors) + 1  # and the header row


def test_an_earlier_as_of_date_regroups_the_reminders(app: App) -> None:
    tab = app.panel(DataTab)
    before = len(app.state.merge.keys())
    tab.form.as_of.value = dt.date(2026, 7, 1)
    tab.apply_button.click()
    after = app.state.merge
    assert after.records.extra["as_of"] == dt.date(2026, 7, 1)
    assert 0 < len(after.keys()) < before


def test_an_unsupported_file_is_a_clear_message(app: App, upload) -> None:
    tab = app.panel(DataTab)
    upload(tab, "umowa.pdf", b"%PDF-1.7")
    assert "only .csv and .xlsx files can be loaded" in tab.notice.value
    assert app.state.merge.records.table.source == "invoices.csv"


def test_applying_without_a_table_says_what_to_do(samples: Path) -> None:
    made = App.create(samples)
    tab = made.panel(DataTab)
    tab.apply_button.click()
    assert "Load a sample job or upload a table first." in tab.notice.value


def test_a_saved_job_is_offered_and_loaded(samples: Path) -> None:
    store = open_store()
    assert store is not None
    made = App.create(samples, store=store)  # as Voila's pre-started kernel made it
    tab = made.panel(DataTab)
    assert [v for _label, v in tab.sample.options if v.startswith("saved:")] == []
    save_job_file(store, samples / "payslips.toml", Scope.PERSONAL, name="Paski listopad")
    tab.jobs_button.click()
    assert "1 saved job(s) in the list." in tab.notice.value
    offered = dict(tab.sample.options)
    assert offered["Paski listopad (saved, personal)"] == "saved:personal:Paski listopad"
    assert str(samples / "overdue.toml") in offered.values()
    tab.sample.value = "saved:personal:Paski listopad"
    tab.load_button.click()
    assert made.state.merge is not None, tab.notice.value
    assert len(made.state.merge.keys()) == 60
    assert made.state.merge.job.data.path.resolve() == samples.parent / "employees.csv"
    made.state.language = "pl"
    assert "Paski listopad (zapisane, osobiste)" in dict(tab.sample.options)
    assert tab.sample.value == "saved:personal:Paski listopad"  # the choice survives
    remove_job(store, "Paski listopad", Scope.PERSONAL)  # meanwhile, in another window
    tab.load_button.click()
    assert "Paski listopad" in tab.notice.value and "mk-notice-error" in tab.notice._dom_classes
