"""Overdue invoices as of a date, one reminder per customer with all of its overdue invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import mailkit
from mailkit.data import age_bucket

INVOICES = [
    ["Numer", "NIP", "Wystawiona", "Termin", "Brutto", "Zapłacono"],
    ["FV/2026/10/0001", "5260250274", "2026-10-01", "2026-10-15", "1000,00", "0"],
    ["FV/2026/10/0002", "526-025-02-74", "2026-10-05", "2026-11-05", "500,00", "200,00"],
    ["FV/2026/11/0003", "5260250274", "2026-11-10", "2026-11-30", "700,00", "0"],  # not yet due
    ["FV/2026/09/0004", "7740001454", "2026-09-01", "2026-09-15", "300,00", "300,00"],  # paid
    ["FV/2026/09/0005", "1234563218", "2026-09-01", "2026-09-10", "50,00", ""],
]
CUSTOMERS = [
    ["NIP", "Nazwa", "E-mail"],
    ["526-025-02-74", "Piekarnia <b>Złoty</b> Kłos", "biuro@zloty-klos.example.com"],
    ["7740001454", "Apteka Pod Różą", "apteka@example.org"],
    ["1234563218", "Drukarnia Wrzos", "druk@example.net"],
]
JOB = """
    kind = "overdue"
    company = "Hurtownia Testowa"
    [data]
    path = "invoices.csv"
    [data.columns]
    numer = "Numer"
    nip = "NIP"
    z_dnia = "Wystawiona"
    termin = "Termin"
    brutto = "Brutto"
    "zapłacono" = "Zapłacono"
    [customers]
    path = "customers.csv"
    [customers.columns]
    nip = "NIP"
    kontrahent = "Nazwa"
    email = "E-mail"
    [overdue]
    as_of = 2026-11-22
    [template]
    subject = "Przypomnienie: {numery}"
    text = '''
    {% for f in faktury %}{{ f.numer }} {{ f.termin }} {{ f.do_zapłaty }} {{ f.days }}
    {% endfor %}Razem: {suma}'''
    html = '<html><body><p>{kontrahent}</p></body></html>'
    [sender]
    address = "naleznosci@example.com"
"""


def make(write_csv, write_job, invoices=INVOICES, customers=CUSTOMERS) -> mailkit.Merge:  # type: ignore[no-untyped-def]
    write_csv("invoices.csv", invoices, delimiter=";")
    write_csv("customers.csv", customers, encoding="cp1250", delimiter=";")
    return mailkit.prepare(mailkit.load_job(write_job(JOB)))


def test_one_record_per_customer_with_its_overdue_invoices(write_csv, write_job) -> None:
    merge = make(write_csv, write_job)
    assert merge.keys() == ["5260250274", "1234563218"]  # paid and not-yet-due left out
    first = merge.record("5260250274")
    assert first.values["liczba_faktur"] == 2
    assert [i["numer"] for i in first.values["faktury"]] == ["FV/2026/10/0001", "FV/2026/10/0002"]
    assert first.values["suma"].amount == Decimal("1300.00")  # 1000 + (500 - 200)
    assert first.values["dni_po_terminie"] == 38
    assert first.values["kontrahent"] == "Piekarnia <b>Złoty</b> Kłos"
    assert merge.records.extra["customers_without_overdue"] == 1


def test_the_reminder_lists_invoices_with_days_and_total(write_csv, write_job) -> None:
    merge = make(write_csv, write_job)
    draft = merge.draft(merge.record("5260250274"))
    assert draft.subject == "Przypomnienie: FV/2026/10/0001, FV/2026/10/0002"
    assert "FV/2026/10/0001 15.10.2026 1\u00a0000,00\u00a0zł 38" in draft.text
    assert "FV/2026/10/0002 05.11.2026 300,00\u00a0zł 17" in draft.text
    assert draft.text.endswith("Razem: 1\u00a0300,00\u00a0zł")
    assert "&lt;b&gt;Złoty&lt;/b&gt;" in (draft.html or "")  # escaped in HTML


def test_an_invoice_for_an_unknown_customer_blocks_its_reminder(write_csv, write_job) -> None:
    invoices = [*INVOICES, ["FV/2026/08/0009", "9492107026", "2026-08-01", "2026-08-15", "10", "0"]]
    merge = make(write_csv, write_job, invoices=invoices)
    report = mailkit.preflight(merge)
    (finding,) = [f for f in report.errors if f.code == "unknown-customer"]
    assert (finding.row, finding.column, finding.line) == ("9492107026", "NIP", 7)
    assert merge.record("9492107026").blocked


def test_a_bad_invoice_row_blocks_that_customer_only(write_csv, write_job) -> None:
    invoices = [*INVOICES, ["FV/2026/08/0010", "1234563218", "2026-08-01", "x", "10", "0"]]
    merge = make(write_csv, write_job, invoices=invoices)
    report = mailkit.preflight(merge)
    assert [(f.row, f.column) for f in report.errors] == [("FV/2026/08/0010", "Termin")]
    assert merge.record("1234563218").blocked
    assert not merge.record("5260250274").blocked
    assert [r.key for r in report.rows] == ["5260250274"]


def test_customers_without_reminders_are_not_checked(write_csv, write_job) -> None:
    customers = [*CUSTOMERS, ["9492107026", "Bez zaległości", "zly adres"]]
    merge = make(write_csv, write_job, customers=customers)
    assert mailkit.preflight(merge).ok


def test_age_buckets() -> None:
    assert [age_bucket(d) for d in (1, 30, 31, 60, 61, 90, 91, 400)] == [
        "1–30",
        "1–30",
        "31–60",
        "31–60",
        "61–90",
        "61–90",
        "> 90",
        "> 90",
    ]


def test_sample_reminders_cover_the_cases(sample_jobs) -> None:
    merge = mailkit.prepare(mailkit.load_job(sample_jobs / "overdue.toml"))
    counts = [r.values["liczba_faktur"] for r in merge.records.records]
    assert len(counts) >= 20 and max(counts) >= 3  # some customers owe several invoices
    assert merge.records.extra["customers_without_overdue"] >= 5  # some owe nothing
    partly = [
        i for r in merge.records.records for i in r.values["faktury"] if i["zapłacono"].amount > 0
    ]
    assert partly  # some invoices are partly paid
    assert merge.job.as_of == dt.date(2026, 11, 22)
