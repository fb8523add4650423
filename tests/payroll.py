"""Builders for payroll tests: employees with valid PESELs, a payslip job, and the real tools
(qpdf, pdftotext, 7z) that open what mailkit produced."""

from __future__ import annotations

import io
import shutil
import subprocess
import textwrap
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pikepdf
import pytest
from stdnum.pl import pesel as stdnum_pesel

HEADERS = [
    "Nr",
    "Imię",
    "Nazwisko",
    "PESEL",
    "E-mail",
    "Okres",
    "Zasadnicze",
    "Premia",
    "Brutto",
    "Składki ZUS",
    "Do wypłaty",
]
FIRST = ["Zofia", "Łukasz", "Grażyna", "Jędrzej", "Bożena", "Ścibor", "Żaneta", "Michał"]
LAST = ["Wójcik", "Kołodziej", "Źrebiec", "Ślęzak", "Nowak", "Zając", "Górska", "Dąbek"]


def pesel(i: int) -> str:
    """A valid PESEL; every fifth one belongs to someone born in 2000s (leading zero)."""
    year, month = (5, 21 + i % 12) if i % 5 == 0 else (60 + i, 1 + i % 12)
    body = f"{year:02d}{month:02d}{1 + i % 28:02d}{100 + i:03d}{i % 10}"
    return body + stdnum_pesel.calc_check_digit(body)


def employee(i: int) -> list[str]:
    """Row ``i``: distinct names, PESEL and amounts, so a leak of one into another shows."""
    base, bonus, zus = 5000 + 111 * i, 100 * i, 700 + 13 * i
    gross = base + bonus
    return [
        f"P{i}",
        FIRST[i % len(FIRST)],
        LAST[i % len(LAST)],
        pesel(i),
        f"osoba{i}@example.com",
        "10/2026",
        f"{base},00",
        f"{bonus},00",
        f"{gross},00",
        f"{zus},00",
        f"{gross - zus},00",
    ]


def amount(value: int) -> str:
    """A whole-złoty amount as pdftotext reads it from a Polish PDF ('4 498,00 zł')."""
    return f"{value:,}".replace(",", " ") + ",00 zł"


JOB = """
name = "Paski testowe"
company = "Firma Testowa Sp. z o.o."
recipient_name = "{{imię}} {{nazwisko}}"

[data]
path = "employees.csv"
key = "id"

[data.columns]
id = "Nr"
"imię" = "Imię"
nazwisko = "Nazwisko"
pesel = "PESEL"
email = "E-mail"
okres = "Okres"
zasadnicze = {{ column = "Zasadnicze", type = "money" }}
premia = {{ column = "Premia", type = "money" }}
brutto = {{ column = "Brutto", type = "money" }}
zus = {{ column = "Składki ZUS", type = "money" }}
"do_wypłaty" = {{ column = "Do wypłaty", type = "money" }}

[template]
subject = "Pasek za {{okres}}"
text = "Dzień dobry {{imię}}, w załączeniu pasek wynagrodzeń."

[sender]
name = "Kadry"
address = "kadry@firma.example.com"
"""


def write_payroll(
    folder: Path, extra: str = "", *, rows: list[list[str]] | None = None, count: int = 3
) -> Path:
    """employees.csv and job.toml in ``folder``; ``extra`` TOML sections are appended."""
    rows = rows if rows is not None else [employee(i) for i in range(1, count + 1)]
    lines = [";".join(r) for r in [HEADERS, *rows]]
    (folder / "employees.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = folder / "job.toml"
    job.write_text(JOB.format() + textwrap.dedent(extra), encoding="utf-8")
    return job


def attachments_of(eml: bytes) -> dict[str, bytes]:
    """Attachment name -> content of a message (signed or not)."""
    msg = message_from_bytes(eml, policy=email_policy.default)
    out = {}
    for part in msg.walk():
        if part.get_filename():
            out[part.get_filename()] = part.get_payload(decode=True)
    return out


def tool(name: str) -> str:
    """The path of a real tool the tests need; a missing one fails (./dev installs them)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run ./dev install test")
    return path


def run(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a real tool with a time limit and captured text output."""
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=check
    )


def pdf_text(path: Path, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """pdftotext's output for ``path`` opened with ``password`` (its return code says if it did)."""
    args: list[str | Path] = [tool("pdftotext"), "-layout"]
    if password is not None:
        args += ["-upw", password]
    return run(*args, path, "-")


def pdf_opens_with(data: bytes, password: str) -> bool:
    """True for an encrypted PDF that ``password`` opens (an open PDF is not counted)."""
    try:
        pikepdf.open(io.BytesIO(data)).close()
    except pikepdf.PasswordError:
        try:
            pikepdf.open(io.BytesIO(data), password=password).close()
        except pikepdf.PasswordError:
            return False
        return True
    return False
