"""Password-protected attachments, checked with the real tools: qpdf, pdftotext and 7-Zip.

RELIABILITY cases 27 (ZIP mode) and 28 (PDF mode), plus: with five employees, each file opens
with that employee's PESEL only and shows that employee's data only.
"""

from __future__ import annotations

import asyncio
import csv
import stat
import zipfile
from pathlib import Path

import pytest
from payroll import (
    FIRST,
    LAST,
    amount,
    attachments_of,
    employee,
    pdf_text,
    pesel,
    run,
    tool,
    write_payroll,
)

import mailkit
from mailkit.cli import main
from mailkit.cli.common import EXIT_FINDINGS, EXIT_OK
from mailkit.errors import ConfigError, ProtectionError
from mailkit.protect import encrypt_pdf, verify_pdf, verify_zip, zip_files
from mailkit.sink import list_messages, read_message

PAYSLIPS = """
[attachments]
generate = "payslip"
"""


def export(job: Path, out: Path, **passwords: str) -> dict[str, dict[str, bytes]]:
    """Export the job's drafts; row key -> attachment name -> bytes."""
    merge = mailkit.prepare(mailkit.load_job(job), passwords=passwords)
    asyncio.run(mailkit.export_drafts(merge, out))
    return {p.stem: attachments_of(p.read_bytes()) for p in sorted(out.glob("*.eml"))}


def save(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def test_pdf_mode_is_aes256_r6_with_a_separate_owner_password(tmp_path: Path) -> None:
    """RELIABILITY 28."""
    found = export(write_payroll(tmp_path, PAYSLIPS), tmp_path / "out")
    assert sorted(found) == ["P1", "P2", "P3"]
    for i, key in enumerate(sorted(found), start=1):
        ((name, data),) = found[key].items()
        assert name == "pasek-wynagrodzen.pdf"
        pdf = save(data, tmp_path / f"{key}.pdf")
        qpdf = tool("qpdf")
        shown = run(qpdf, f"--password={pesel(i)}", "--show-encryption", pdf, check=True).stdout
        assert "R = 6" in shown
        assert "stream encryption method: AESv3" in shown  # AES-256
        assert "file encryption method: AESv3" in shown
        # The PESEL opens it as the user password, so the owner password is a different one.
        assert "Supplied password is user password" in shown
        for no_password in ([], ["--password="]):
            refused = run(qpdf, *no_password, "--check", pdf)
            assert refused.returncode != 0
            assert "invalid password" in refused.stderr
        assert "Incorrect password" in run(qpdf, "--show-encryption", pdf).stdout


def test_each_of_five_employees_opens_only_their_own_payslip(tmp_path: Path) -> None:
    rows = [employee(i) for i in range(1, 6)]
    found = export(write_payroll(tmp_path, PAYSLIPS, rows=rows), tmp_path / "out")
    assert len(found) == 5
    for i, row in enumerate(rows, start=1):
        pdf = save(found[row[0]]["pasek-wynagrodzen.pdf"], tmp_path / f"{row[0]}.pdf")
        for j in range(1, 6):
            opened = pdf_text(pdf, pesel(j))
            assert (opened.returncode == 0) == (i == j), (i, j)
        text = pdf_text(pdf, pesel(i)).stdout
        assert f"{row[1]} {row[2]}" in text
        assert amount(int(row[10].split(",")[0])) in text  # net pay
        others = [r for r in rows if r is not row]
        for other in others:
            assert other[2] not in text  # no other surname
            assert amount(int(other[10].split(",")[0])) not in text  # no other net pay
            assert other[3] not in text  # no other PESEL
        assert row[3] not in text  # nor the employee's own PESEL: it is the password
    for eml in (tmp_path / "out").glob("*.eml"):
        raw = eml.read_bytes()
        assert not [r[3] for r in rows if r[3].encode() in raw]  # no PESEL anywhere in a message


def test_zip_mode_is_aes256_and_names_carry_no_pesel_or_surname(tmp_path: Path) -> None:
    """RELIABILITY 27: other files go into an AES-256 ZIP; names are readable, so neutral."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in (1, 2):
        (docs / f"P{i}.csv").write_text(f"rok;kwota\n2026;{1000 * i}\n", encoding="utf-8")
        (docs / f"P{i}.txt").write_text(f"Zaświadczenie {LAST[i]}", encoding="utf-8")
    extra = """
    [attachments]
    files = ["docs/{id}.csv", "docs/{id}.txt"]
    """
    found = export(write_payroll(tmp_path, extra, count=2), tmp_path / "out")
    seven = tool("7z")
    for i, key in ((1, "P1"), (2, "P2")):
        ((name, data),) = found[key].items()
        assert name == "zalaczniki.zip"
        archive = save(data, tmp_path / f"{key}.zip")
        listing = run(seven, "l", "-slt", archive, check=True).stdout
        members = [
            line.split(" = ", 1)[1]
            for line in listing.splitlines()
            if line.startswith("Path = ") and not line.endswith(".zip")
        ]
        assert sorted(members) == ["zalacznik.csv", "zalacznik.txt"]
        assert listing.count("Method = AES-256") == 2
        assert listing.count("Encrypted = +") == 2
        for text in (listing, name):
            assert pesel(i) not in text
            assert LAST[i] not in text
        assert run(seven, "t", "-pWrongPassword1", archive).returncode != 0
        assert run(seven, "t", "-p", archive).returncode != 0
        out = tmp_path / f"x{i}"
        run(seven, "x", f"-p{pesel(i)}", f"-o{out}", archive, check=True)
        assert (out / "zalacznik.csv").read_text(
            encoding="utf-8"
        ) == f"rok;kwota\n2026;{1000 * i}\n"


def test_a_row_without_pesel_is_held_until_the_operator_gives_a_password(tmp_path: Path) -> None:
    rows = [employee(1), employee(2)]
    rows[1][3] = ""
    job = write_payroll(tmp_path, PAYSLIPS, rows=rows)
    merge = mailkit.prepare(mailkit.load_job(job))
    assert merge.held() == ["P2"]
    report = mailkit.preflight(merge)
    (error,) = report.errors
    assert (error.row, error.code) == ("P2", "protection")
    assert "held" in error.message
    assert "PESEL" in error.message
    assert "--password P2=" in error.message
    assert [r.key for r in report.rows] == ["P1"]

    with pytest.raises(ConfigError, match="at least 8"):
        merge.supply_passwords({"P2": "short"})
    with pytest.raises(ConfigError, match="only for held rows"):
        merge.supply_passwords({"P1": "LongEnough123"})
    with pytest.raises(ConfigError, match="no row P9"):
        merge.supply_passwords({"P9": "LongEnough123"})

    found = export(job, tmp_path / "out", P2="Ręczne-hasło-77")
    pdf = save(found["P2"]["pasek-wynagrodzen.pdf"], tmp_path / "p2.pdf")
    assert pdf_text(pdf, "Ręczne-hasło-77").returncode == 0
    assert pdf_text(pdf, "").returncode != 0


def test_held_rows_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [employee(1), employee(2), employee(3)]
    rows[1][3] = rows[2][3] = ""
    job = write_payroll(tmp_path, PAYSLIPS, rows=rows)
    assert main(["check", str(job)]) == EXIT_FINDINGS
    out = capsys.readouterr().out
    assert "2 row(s) held" in out
    assert "P2, P3" in out

    listed = tmp_path / "passwords.csv"
    listed.write_text("row,password\nP3,Hasło-dla-P3\n", encoding="utf-8")
    listed.chmod(0o600)
    args = [
        "export",
        str(job),
        "--out",
        str(tmp_path / "out"),
        "--password",
        "P2=Hasło-dla-P2",
        "--password-file",
        str(listed),
    ]
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert "3 draft(s) written" in out
    assert "Hasło-dla" not in out
    p3 = attachments_of((tmp_path / "out" / "P3.eml").read_bytes())["pasek-wynagrodzen.pdf"]
    assert pdf_text(save(p3, tmp_path / "p3.pdf"), "Hasło-dla-P3").returncode == 0


def test_the_email_never_carries_the_password(tmp_path: Path) -> None:
    job = write_payroll(tmp_path, PAYSLIPS)
    text = job.read_text(encoding="utf-8")
    job.write_text(text.replace("w załączeniu pasek", "hasło {pesel}, pasek"), encoding="utf-8")
    with pytest.raises(ConfigError, match="which is the attachment password"):
        mailkit.prepare(mailkit.load_job(job))

    # The same value reached through another column is caught row by row.
    rows = [[*employee(i), pesel(i) if i != 2 else "-"] for i in (1, 2, 3)]
    job = write_payroll(tmp_path, PAYSLIPS, rows=rows)
    text = job.read_text(encoding="utf-8").replace(
        'okres = "Okres"', 'okres = "Okres"\nuwagi = "Uwagi"'
    )
    text = text.replace("w załączeniu pasek", "uwagi {uwagi}, pasek")
    job.write_text(text, encoding="utf-8")
    csv_file = tmp_path / "employees.csv"
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    csv_file.write_text("\n".join([lines[0] + ";Uwagi", *lines[1:]]) + "\n", encoding="utf-8")
    report = mailkit.preflight(mailkit.prepare(mailkit.load_job(job)))
    assert [(e.row, e.code) for e in report.errors] == [("P1", "protection"), ("P3", "protection")]
    assert all("contains the attachment password" in e.message for e in report.errors)
    assert [r.key for r in report.rows] == ["P2"]


def test_pesel_passwords_and_hints_are_warned_about(tmp_path: Path) -> None:
    job = write_payroll(tmp_path, PAYSLIPS)
    job.write_text(
        job.read_text(encoding="utf-8").replace("w załączeniu pasek", "hasło to PESEL, pasek"),
        encoding="utf-8",
    )
    report = mailkit.preflight(mailkit.prepare(mailkit.load_job(job)))
    assert report.ok  # warnings do not block
    codes = {f.code: f.message for f in report.warnings}
    assert "10,000" in codes["weak-password"]
    assert '"PESEL"' in codes["password-hint"]


def test_random_passwords_go_to_a_private_report_and_stay_the_same(tmp_path: Path) -> None:
    report = tmp_path / "secret" / "hasla.csv"
    job = write_payroll(
        tmp_path, PAYSLIPS + f'[protection]\nsource = "random"\nreport = "{report}"\n'
    )
    first = export(job, tmp_path / "out1")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    with report.open(encoding="utf-8-sig", newline="") as fh:
        passwords = {r["row"]: r["password"] for r in csv.DictReader(fh)}
    assert sorted(passwords) == ["P1", "P2", "P3"]
    assert all(len(p) == 16 for p in passwords.values())
    assert len(set(passwords.values())) == 3
    before = report.read_bytes()
    second = export(job, tmp_path / "out2")
    assert report.read_bytes() == before  # a later run reuses them
    for key, password in passwords.items():
        for run_found, where in ((first, "a"), (second, "b")):
            pdf = save(run_found[key]["pasek-wynagrodzen.pdf"], tmp_path / f"{key}{where}.pdf")
            assert pdf_text(pdf, password).returncode == 0
            assert pdf_text(pdf, pesel(int(key[1:]))).returncode != 0
    weak = mailkit.preflight(mailkit.prepare(mailkit.load_job(job))).warnings
    assert "weak-password" not in {f.code for f in weak}


def test_the_report_option_of_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = write_payroll(tmp_path, PAYSLIPS + '[protection]\nsource = "random"\n')
    report = tmp_path / "dostarczyc.csv"
    assert main(["check", str(job), "--password-report", str(report)]) == EXIT_OK
    assert str(report) in capsys.readouterr().out
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_protection_can_be_switched_off(tmp_path: Path) -> None:
    found = export(
        write_payroll(tmp_path, PAYSLIPS + "[protection]\nenabled = false\n", count=1),
        tmp_path / "out",
    )
    pdf = save(found["P1"]["pasek-wynagrodzen.pdf"], tmp_path / "open.pdf")
    assert "File is not encrypted" in run(tool("qpdf"), "--show-encryption", pdf).stdout
    assert FIRST[1] in pdf_text(pdf).stdout


def test_verification_refuses_weak_or_broken_files(tmp_path: Path, sample_jobs: Path) -> None:
    plain = tmp_path / "plain.pdf"
    merge = mailkit.prepare(mailkit.load_job(sample_jobs / "overdue.toml"))
    (statement,) = merge.draft(merge.records.records[0]).attachments
    plain.write_bytes(statement.content)
    with pytest.raises(ProtectionError, match="opens without a password"):
        verify_pdf(plain.read_bytes(), "Secret-123")
    aes128 = tmp_path / "aes128.pdf"
    run(
        tool("qpdf"),
        "--encrypt",
        "Secret-123",
        "Owner-456",
        "128",
        "--use-aes=y",
        "--",
        plain,
        aes128,
        check=True,
    )
    with pytest.raises(ProtectionError, match="R=6"):
        verify_pdf(aes128.read_bytes(), "Secret-123")
    good = encrypt_pdf(plain.read_bytes(), "Secret-123")
    verify_pdf(good, "Secret-123")
    with pytest.raises(ProtectionError, match="does not open"):
        verify_pdf(good, "Other-123")
    with pytest.raises(ProtectionError, match="already password-protected"):
        encrypt_pdf(good, "x")

    files = [("a.txt", b"tre\xc5\x9b\xc4\x87")]
    verify_zip(zip_files(files, "Secret-123"), "Secret-123", files)
    src = save(files[0][1], tmp_path / "a.txt")
    for method in ("ZipCrypto", "AES128"):
        legacy = tmp_path / f"{method}.zip"
        run(tool("7z"), "a", "-tzip", "-pSecret-123", f"-mem={method}", legacy, src, check=True)
        with pytest.raises(ProtectionError, match="not AES-256"):
            verify_zip(legacy.read_bytes(), "Secret-123", files)
    with zipfile.ZipFile(tmp_path / "open.zip", "w") as unprotected:
        unprotected.writestr("a.txt", files[0][1])
    with pytest.raises(ProtectionError, match="not AES-256"):
        verify_zip((tmp_path / "open.zip").read_bytes(), "Secret-123", files)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('password = "tajne"', "a password never goes into the job file"),
        ('source = "pesel"', "must be one of column, template, random"),
        ('source = "template"', 'protection.template is required when source = "template"'),
        ("length = 6", "protection.length must be between 10 and 64"),
        ('field = "konto"', "protection.field names konto, which [data.columns] does not map"),
        ('feld = "pesel"', "unknown setting protection.feld. Did you mean field?"),
    ],
)
def test_protection_settings_are_checked(tmp_path: Path, section: str, problem: str) -> None:
    job = write_payroll(tmp_path, PAYSLIPS + "[protection]\n" + section + "\n", count=1)
    with pytest.raises(ConfigError) as caught:
        mailkit.prepare(mailkit.load_job(job))
    assert problem in caught.value.message
    assert caught.value.setting is not None
    assert caught.value.setting.startswith("protection.")


def test_send_takes_passwords_for_held_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mailkit send`` holds a row without PESEL; with --password it sends it, protected."""
    monkeypatch.setenv("MAILKIT_OUTBOX", str(tmp_path / "outbox.sqlite3"))
    rows = [employee(1), employee(2)]
    rows[1][3] = ""
    sink = '[destination]\nkind = "sink"\nfolder = "sink"\nport = 0\n'
    job = write_payroll(tmp_path, PAYSLIPS + sink, rows=rows)
    assert main(["send", str(job)]) == EXIT_FINDINGS
    assert "P2 is held" in capsys.readouterr().out
    assert list_messages(tmp_path / "sink") == []  # nothing leaves while a row is held

    assert main(["send", str(job), "--password", "P2=Hasło-dla-P2"]) == EXIT_OK
    assert "Hasło-dla-P2" not in capsys.readouterr().out
    captured = list_messages(tmp_path / "sink")
    assert sorted(c.recipients for c in captured) == [
        ("osoba1@example.com",),
        ("osoba2@example.com",),
    ]
    passwords = {"osoba1@example.com": pesel(1), "osoba2@example.com": "Hasło-dla-P2"}
    for item in captured:
        eml = read_message(tmp_path / "sink", item.id, envelope=False)
        pdf = save(attachments_of(eml)["pasek-wynagrodzen.pdf"], tmp_path / "sent.pdf")
        own = passwords[item.recipients[0]]
        assert pdf_text(pdf, own).returncode == 0
        for wrong in ("", *(p for p in passwords.values() if p != own)):
            assert pdf_text(pdf, wrong).returncode != 0
