"""The `mailkit` command: check, keys, preview and export, with exit codes and both languages."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

from mailkit.cli import main
from mailkit.cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

HEADERS = ["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"]


def test_check_passes_on_a_clean_job(employees_job, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(employees_job())]) == EXIT_OK
    assert "2 of 2 messages ready, 0 error(s)" in capsys.readouterr().out


def test_check_fails_with_findings_and_writes_a_report(
    employees_job, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [HEADERS, ["P1", "Ala", "Nowak", "02270803625", "ala@example.com", "1"]]
    report = tmp_path / "report.csv"
    assert main(["check", str(employees_job(rows)), "--report", str(report)]) == EXIT_FINDINGS
    out = capsys.readouterr().out
    assert 'ERROR    row P1 (line 2) column "PESEL"' in out
    assert "PESEL" in report.read_text(encoding="utf-8-sig")


def test_a_broken_job_file_is_a_usage_error(write_job, capsys: pytest.CaptureFixture[str]) -> None:
    job = write_job('kind = "rows"\n[data]\npath = "x.csv"\n')
    assert main(["check", str(job)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("mailkit: ") and "[data.columns]" in err and "Traceback" not in err


def test_unknown_setting_is_named_with_a_suggestion(
    employees_job, write_job, capsys: pytest.CaptureFixture[str]
) -> None:
    text = employees_job().read_text(encoding="utf-8").replace('key = "id"', 'kye = "id"')
    assert main(["check", str(write_job(text))]) == EXIT_USAGE
    assert "unknown setting data.kye. Did you mean key?" in capsys.readouterr().err


def test_messages_in_polish(employees_job, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "pl", "check", str(employees_job())]) == EXIT_OK
    assert "wiadomości gotowych" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "html", "eml"])
def test_preview_formats(employees_job, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(employees_job()), "--row", "P1", "--format", fmt]) == EXIT_OK
    out = capsys.readouterr().out
    if fmt == "text":
        assert "To: Zofia Wójcik <zofia@example.com>" in out
        assert "Bcc (envelope only, not in the message): archiwum@firma.example.com" in out
        assert "do wypłaty 5\u00a0717,13\u00a0zł" in out
    elif fmt == "eml":
        assert message_from_bytes(out.encode(), policy=email_policy.default)["Subject"]
    else:
        assert "no HTML body" in out


def test_preview_of_an_unknown_row(employees_job, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(employees_job()), "--row", "P9"]) == EXIT_USAGE
    assert "there is no row P9" in capsys.readouterr().err


def test_keys_and_export(employees_job, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = str(employees_job())
    assert main(["keys", job]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == ["P1\tzofia@example.com", "P2\tjan@example.org"]
    assert main(["export", job, "--out", str(tmp_path / "eml")]) == EXIT_OK
    assert sorted(p.name for p in (tmp_path / "eml").iterdir()) == ["P1.eml", "P2.eml"]


def test_the_installed_command_runs(employees_job) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailkit", "check", str(employees_job())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr


def test_columns_suggests_a_mapping_from_the_files_own_headers(
    write_csv, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        "t.csv",
        [
            ["Nr ewidencyjny", "E-mail pracownika", "PESEL", "Dział"],
            ["P1", "a@example.com", "02270803624", "IT"],
        ],
        encoding="cp1250",
        delimiter=";",
    )
    assert main(["columns", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "encoding cp1250, delimiter ';'" in out
    assert '"email" = "E-mail pracownika"' in out and '"pesel" = "PESEL"' in out
    assert '"id" = "Nr ewidencyjny"' in out
    assert '# "dział" = "Dział"' in out
