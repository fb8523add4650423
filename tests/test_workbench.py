"""What the app's buttons call: open, upload, remap, re-date, retemplate, look, compose, save."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mailkit import ConfigError, DataError, TemplateError, TemplateSource, load_job, prepare
from mailkit.catalog import save_template
from mailkit.compose import compose, insert_template, save_draft
from mailkit.data import read_table
from mailkit.overview import age_totals, customer_rows, find_rows, recipient
from mailkit.store import Scope, SettingsStore
from mailkit.workbench import (
    catalogue_templates,
    html_size,
    load_upload,
    macro_palette,
    message_view,
    redate,
    remap,
    render_row,
    retemplate,
    sample_jobs,
    suggest_columns,
    use_table,
)

ROOT = Path(__file__).resolve().parents[1]
JOBS = ROOT / "data" / "jobs"


@pytest.fixture(scope="module")
def overdue():  # type: ignore[no-untyped-def]
    return prepare(load_job(JOBS / "overdue.toml"))


def test_sample_jobs_are_named_by_their_files(tmp_path: Path) -> None:
    names = {s.path.name: s.name for s in sample_jobs(JOBS)}
    assert names["overdue.toml"] == "Przypomnienia o płatnościach"
    (tmp_path / "broken.toml").write_text("name = ", encoding="utf-8")
    assert [s.name for s in sample_jobs(tmp_path)] == ["broken"]


def test_suggested_columns_keep_the_jobs_own_headers_and_guess_the_rest() -> None:
    job = load_job(JOBS / "overdue.toml")
    headers = ["Nr faktury", "NIP nabywcy", "Termin", "Kwota brutto", "Uwagi"]
    assert suggest_columns(job, headers) == {
        "numer": "Nr faktury",
        "nip": "NIP nabywcy",
        "z_dnia": "",
        "termin": "Termin",
        "brutto": "Kwota brutto",
        "zapłacono": "",
    }


def test_remap_leaves_out_optional_fields_and_names_a_missing_required_one() -> None:
    job = load_job(JOBS / "overdue.toml")
    mapping = {c.field: c.header for c in job.data.columns} | {"zapłacono": ""}
    remapped = remap(job, mapping, source="upload.csv")
    assert "zapłacono" not in {c.field for c in remapped.data.columns}
    assert remapped.data.path.name == "upload.csv"
    with pytest.raises(ConfigError, match="termin") as err:
        remap(job, mapping | {"termin": ""})
    assert err.value.setting == "data.columns.termin"


def test_an_uploaded_table_runs_with_the_jobs_template(overdue) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Nr;NIP;Wystawiona;Termin płatności;Brutto\r\n"
        "A/1;6176896933;01.09.2026;15.09.2026;1 000,00\r\n"
        "A/2;6176896933;01.10.2026;15.10.2026;250,50\r\n"
    )
    table = load_upload("wrzesien.csv", text.encode("cp1250"))
    assert (table.encoding, table.delimiter) == ("cp1250", ";")
    mapping = {
        "numer": "Nr",
        "nip": "NIP",
        "z_dnia": "Wystawiona",
        "termin": "Termin płatności",
        "brutto": "Brutto",
        "zapłacono": "",
    }
    merge = use_table(overdue.job, table, mapping, dt.date(2026, 11, 1))
    assert merge.keys() == ["6176896933"]
    record = merge.record("6176896933")
    assert record.values["liczba_faktur"] == 2
    assert record.values["suma"].amount == Decimal("1250.50")
    assert "A/1, A/2" in dict(message_view(merge, "6176896933").headers)["Subject"]


def test_the_jobs_own_table_remapped_keeps_its_path(overdue) -> None:  # type: ignore[no-untyped-def]
    mapping = {c.field: c.header for c in overdue.job.data.columns}
    merge = use_table(overdue.job, overdue.records.table, mapping)
    assert merge.job.data.path == overdue.job.data.path
    assert merge.keys() == overdue.keys()


def test_redate_regroups_without_reading_again(overdue) -> None:  # type: ignore[no-untyped-def]
    earlier = redate(overdue, dt.date(2026, 8, 1))
    assert earlier.records.table is overdue.records.table
    assert 0 < len(earlier.keys()) < len(overdue.keys())


def test_retemplate_and_live_render(overdue) -> None:  # type: ignore[no-untyped-def]
    key = overdue.keys()[0]
    source = TemplateSource("Do zapłaty {suma}", "Dzień dobry {kontrahent}.")
    rendered = render_row(overdue, source, key)
    assert rendered.subject.startswith("Do zapłaty ")
    assert "zł" in rendered.subject
    assert overdue.record(key).values["kontrahent"] in rendered.text
    other = retemplate(overdue, source)
    assert other.records is overdue.records
    assert other.draft(other.record(key)).subject == rendered.subject
    with pytest.raises(TemplateError, match="kontrahnet"):
        render_row(overdue, TemplateSource("x", "{kontrahnet}"), key)


def test_the_palette_offers_seed_macros_columns_and_the_invoice_loop(overdue) -> None:  # type: ignore[no-untyped-def]
    palette = {e.text: e.description for e in macro_palette(overdue)}
    assert palette["{kontrahent}"] == "Recipient of the document"
    assert palette["{miasto}"] == 'column "Miasto"'
    loop = next(t for t in palette if t.startswith("{% for f in faktury %}"))
    assert "{{ f.do_zapłaty }}" in loop
    assert "{umowa}" not in palette  # not mapped in this job, so not usable
    assert html_size("<html>ż</html>") == 15


def test_catalogue_templates_offer_the_users_personal_ones_too() -> None:
    store = SettingsStore()
    shipped = catalogue_templates(store, "przypomnienie")
    assert shipped
    mine = shipped[0].item.__class__(**{**shipped[0].item.__dict__, "name": "Moje"})
    save_template(store, mine, Scope.PERSONAL)
    names = [(t.item.name, t.origin.value) for t in catalogue_templates(store, "przypomnienie")]
    assert ("Moje", "personal") in names


def test_customer_rows_age_totals_and_search(overdue) -> None:  # type: ignore[no-untyped-def]
    rows = customer_rows(overdue)
    assert [r.key for r in rows] == overdue.keys()
    assert all(r.invoices >= 1 and r.total is not None for r in rows)
    totals = age_totals(overdue)
    assert [t.label for t in totals] == ["1–30", "31–60", "61–90", "> 90"]
    assert sum(t.invoices for t in totals) == sum(r.invoices for r in rows)
    assert sum(t.amount.amount for t in totals) == sum(r.total.amount for r in rows)
    record = overdue.records.records[3]
    assert find_rows(overdue, record.values["kontrahent"].upper()) == [record.key]
    assert find_rows(overdue, record.values["email"].domain) == [record.key]
    assert recipient(record).endswith(f"<{record.values['email'].addr_spec}>")


def test_compose_adds_cc_bcc_and_files_and_names_a_bad_address(overdue) -> None:  # type: ignore[no-untyped-def]
    key = overdue.keys()[0]
    base = insert_template(overdue, key)
    draft = compose(
        base,
        subject="Pytanie",
        text="Dzień dobry",
        cc="szef@example.com",
        bcc="archiwum@example.com",
        files=[("umowa.pdf", b"%PDF")],
    )
    assert [a.addr_spec for a in draft.cc] == ["szef@example.com"]
    assert draft.bcc[-1].addr_spec == "archiwum@example.com"
    assert draft.attachments[-1].mimetype == "application/pdf"
    with pytest.raises(DataError, match=r"^BCC: ") as err:
        compose(base, subject="x", text="y", bcc="a@example.com; zły")
    assert err.value.column == "BCC"
    with pytest.raises(DataError, match="subject"):
        compose(base, subject=" ", text="y")


def test_a_saved_draft_is_an_unsent_eml_without_bcc(overdue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    draft = compose(
        insert_template(overdue, overdue.keys()[1]),
        subject="Pytanie",
        text="Dzień dobry",
        bcc="archiwum@example.com",
    )
    path = asyncio.run(save_draft(draft, tmp_path / "drafts"))
    assert path.parent == tmp_path / "drafts"
    raw = path.read_bytes()
    assert raw.startswith(b"X-Unsent: 1\r\n")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Pytanie"


def test_a_table_that_is_not_csv_or_xlsx_is_refused() -> None:
    with pytest.raises(DataError, match=r"only \.csv and \.xlsx"):
        load_upload("notes.pdf", b"%PDF")
    assert read_table("x.csv", data=b"a,b\n1,2\n").headers == ["a", "b"]
