"""Shared fixtures: a hermetic environment and small builders for tables and jobs."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME, no inherited mailkit or Jupyter settings, English messages by default."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USER", "tester")
    for name in list(os.environ):
        if name.startswith(("MAILKIT_", "JUPYTER", "JUPYTERHUB_", "XDG_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAILKIT_LANG", "en")
    from mailkit import i18n

    token = i18n._current.set("en")
    yield home
    i18n._current.reset(token)


@pytest.fixture
def anna_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh settings store for user "anna", with its own global key file."""
    path = tmp_path / "settings.sqlite3"
    monkeypatch.setenv("MAILKIT_STORE", str(path))
    monkeypatch.setenv("JUPYTERHUB_USER", "anna")
    monkeypatch.setenv("MAILKIT_GLOBAL_KEY_FILE", str(tmp_path / "global.key"))
    return path


@pytest.fixture
def write_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write rows (first row: headers) as CSV in a chosen encoding and delimiter."""

    def write(
        name: str, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
    ) -> Path:
        lines = [delimiter.join(_quote(c, delimiter) for c in row) for row in rows]
        path = tmp_path / name
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
        return path

    return write


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in (delimiter, '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@pytest.fixture
def write_job(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a job file (TOML text, dedented) next to the test's tables."""

    def write(text: str, name: str = "job.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


EMPLOYEES_JOB = """
    name = "Test payslips"
    kind = "rows"
    company = "Firma Testowa Sp. z o.o."
    recipient_name = "{{imię}} {{nazwisko}}"

    [data]
    path = "{path}"
    key = "id"

    [data.columns]
    id = "Nr"
    "imię" = "Imię"
    nazwisko = "Nazwisko"
    pesel = "PESEL"
    email = "E-mail"
    kwota = {{ column = "Kwota", type = "money" }}

    [template]
    subject = "Pasek za 10/2026 dla {{imię}}"
    text = "Dzień dobry {{imię}}, do wypłaty {{kwota}}."

    [sender]
    name = "Kadry"
    address = "kadry@firma.example.com"
    bcc = "archiwum@firma.example.com"
"""


@pytest.fixture
def employees_job(write_csv, write_job):  # type: ignore[no-untyped-def]
    """A small valid per-row job; pass rows to override the table."""

    def make(rows: list[list[str]] | None = None, **csv_options: str) -> Path:
        rows = rows or [
            ["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"],
            ["P1", "Zofia", "Wójcik", "02270803624", "zofia@example.com", "5 717,13"],
            ["P2", "Jan", "Kowalski", "85010112345", "jan@example.org", "4806,00"],
        ]
        table = write_csv("employees.csv", rows, **csv_options)
        return write_job(EMPLOYEES_JOB.format(path=table.name))

    return make


@pytest.fixture
def sample_jobs() -> Path:
    return DATA / "jobs"
