"""Generated PDFs: payslips and overdue statements, read back as text with poppler's pdftotext."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from payroll import amount, employee, pdf_text, write_payroll

import mailkit
from mailkit.errors import ConfigError
from mailkit.fonts import FONT_ENV, find_font
from mailkit.formatting import format_money
from mailkit.i18n import _, language

PLAIN = """
[attachments]
generate = "payslip"
header = ["ul. Żółkiewskiego 5, 00-950 Łódź"]

[protection]
enabled = false
"""


def pl(label: str) -> str:
    """A document label as a Polish job prints it (the job's language, not the reader's)."""
    with language("pl"):
        return _(label)


def first_pdf(merge: mailkit.Merge, tmp_path: Path, index: int = 0) -> str:
    draft = merge.draft(merge.records.records[index])
    (attachment,) = draft.attachments
    assert attachment.mimetype == "application/pdf"
    assert attachment.protection == ""
    path = tmp_path / attachment.filename
    path.write_bytes(attachment.content)
    result = pdf_text(path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_polish_letters_render_and_can_be_extracted(tmp_path: Path) -> None:
    row = employee(1)
    row[1], row[2] = "Zażółć gęślą", "Jaźń-ąćęłńóśźż"
    merge = mailkit.prepare(mailkit.load_job(write_payroll(tmp_path, PLAIN, rows=[row])))
    text = first_pdf(merge, tmp_path)
    assert "ąćęłńóśźż" in text
    assert "Zażółć gęślą Jaźń-ąćęłńóśźż" in text
    assert "ul. Żółkiewskiego 5, 00-950 Łódź" in text
    assert "Firma Testowa Sp. z o.o." in text


def test_payslip_lists_components_and_totals(tmp_path: Path) -> None:
    merge = mailkit.prepare(mailkit.load_job(write_payroll(tmp_path, PLAIN, count=2)))
    text = first_pdf(merge, tmp_path, index=1)
    row = employee(2)
    base, bonus, zus = (int(row[k].split(",")[0]) for k in (6, 7, 9))
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    expected = [
        f"Zasadnicze {amount(base)}",
        f"Premia {amount(bonus)}",
        f"{pl('Gross pay')} {amount(base + bonus)}",
        f"Składki ZUS {amount(zus)}",
        f"{pl('Total deductions')} {amount(zus)}",
        f"{pl('Net pay')} {amount(base + bonus - zus)}",
    ]
    found = [next(i for i, line in enumerate(lines) if line == e) for e in expected]
    assert found == sorted(found)  # in this order: earnings, gross, deductions, net
    assert f"{pl('Payslip')} 10/2026" in text
    assert "Nr P2" in " ".join(text.split())
    assert row[3] not in text  # never the PESEL


def test_totals_are_computed_when_the_table_has_none(tmp_path: Path) -> None:
    job = write_payroll(tmp_path, PLAIN, count=1)
    text = job.read_text(encoding="utf-8")
    for line in (
        'brutto = { column = "Brutto", type = "money" }\n',
        '"do_wypłaty" = { column = "Do wypłaty", type = "money" }\n',
    ):
        text = text.replace(line, "")
    text = text.replace('generate = "payslip"', 'generate = "payslip"\ndeductions = ["zus"]')
    job.write_text(text, encoding="utf-8")
    merge = mailkit.prepare(mailkit.load_job(job))
    lines = {" ".join(line.split()) for line in first_pdf(merge, tmp_path).splitlines()}
    row = employee(1)
    base, bonus, zus = (int(row[k].split(",")[0]) for k in (6, 7, 9))
    assert f"{pl('Gross pay')} {amount(base + bonus)}" in lines
    assert f"{pl('Net pay')} {amount(base + bonus - zus)}" in lines


def test_statement_lists_overdue_invoices_days_and_total(sample_jobs: Path, tmp_path: Path) -> None:
    merge = mailkit.prepare(mailkit.load_job(sample_jobs / "overdue.toml"))
    record = max(merge.records.records, key=lambda r: len(r.values["faktury"]))
    draft = merge.draft(record)
    (attachment,) = draft.attachments
    assert attachment.filename == "zestawienie-zaleglosci.pdf"
    assert attachment.protection == ""  # statements are not protected unless the job says so
    path = tmp_path / "s.pdf"
    path.write_bytes(attachment.content)
    text = " ".join(pdf_text(path).stdout.split())
    assert str(record.values["kontrahent"]) in text
    for invoice in record.values["faktury"]:
        assert invoice["numer"] in text
        assert re.search(re.escape(invoice["numer"]) + r" .*? " + str(invoice["dni"]) + " ", text)
    total = format_money(record.values["suma"], "pl_PL").replace("\u00a0", " ")
    assert re.search(re.escape(f"{pl('Total due')} {total}"), text)


def test_a_long_statement_continues_on_more_pages(write_csv, write_job, tmp_path: Path) -> None:
    invoices = [["Numer", "NIP", "Wystawiona", "Termin", "Brutto"]]
    invoices += [
        [f"FV/{i:04d}", "5260250274", "2026-01-02", "2026-02-01", "100,00"] for i in range(1, 121)
    ]
    write_csv("invoices.csv", invoices)
    write_csv(
        "customers.csv",
        [["NIP", "Nazwa", "E-mail"], ["5260250274", "Łączność Sp. z o.o.", "a@example.com"]],
    )
    job = write_job("""
        kind = "overdue"
        company = "Firma"
        [data]
        path = "invoices.csv"
        [data.columns]
        numer = "Numer"
        nip = "NIP"
        z_dnia = "Wystawiona"
        termin = "Termin"
        brutto = "Brutto"
        [customers]
        path = "customers.csv"
        [customers.columns]
        nip = "NIP"
        kontrahent = "Nazwa"
        email = "E-mail"
        [overdue]
        as_of = 2026-11-22
        [template]
        subject = "Zaległości {kontrahent}"
        text = "Razem {suma}"
        [sender]
        address = "ksiegowosc@firma.example.com"
        [attachments]
        generate = "statement"
    """)
    merge = mailkit.prepare(mailkit.load_job(job))
    (attachment,) = merge.draft(merge.records.records[0]).attachments
    path = tmp_path / "long.pdf"
    path.write_bytes(attachment.content)
    pages = pdf_text(path).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 3
    for page in pages:
        assert pl("Invoice") in page  # the table head on every page
    assert all(f"FV/{i:04d}" in "".join(pages) for i in range(1, 121))
    assert "12 000,00 zł" in " ".join(pages[-1].split())


def test_font_is_found_or_clearly_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_font()
    assert found.name == "DejaVuSans.ttf"
    copy = tmp_path / "MojaCzcionka.ttf"
    copy.write_bytes(found.read_bytes())
    monkeypatch.setenv(FONT_ENV, str(copy))
    assert find_font() == copy
    with pytest.raises(ConfigError, match="no font file") as caught:
        find_font(tmp_path / "brak.ttf")
    assert caught.value.setting == "attachments.font"
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    job = write_payroll(tmp_path, PLAIN.replace("[protection]", f'font = "{broken}"\n[protection]'))
    with pytest.raises(ConfigError, match="cannot be used"):
        mailkit.prepare(mailkit.load_job(job))


def test_font_from_the_job_file_is_used(tmp_path: Path) -> None:
    serif = find_font().with_name("DejaVuSerif.ttf")
    job = write_payroll(tmp_path, PLAIN.replace("[protection]", f'font = "{serif}"\n[protection]'))
    merge = mailkit.prepare(mailkit.load_job(job))
    (attachment,) = merge.draft(merge.records.records[0]).attachments
    assert b"DejaVuSerif" in attachment.content
    assert b"DejaVuSans" not in attachment.content


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('earnings = ["okres"]', 'must be mapped with type = "money"'),
        ('generate = "statement"', 'needs kind = "overdue"'),
        ('generate = "invoice"', "must be one of payslip, statement"),
        ('genrate = "payslip"', "unknown setting attachments.genrate"),
    ],
)
def test_attachment_settings_are_checked(tmp_path: Path, extra: str, problem: str) -> None:
    text = "\n[attachments]\n" + extra + "\n"
    if not extra.startswith(("generate", "genrate")):
        text += 'generate = "payslip"\n'
    job = write_payroll(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(problem)):
        mailkit.prepare(mailkit.load_job(job))
