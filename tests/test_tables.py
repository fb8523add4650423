"""Reading tables: encodings, delimiters, XLSX, identifiers kept as text, per-row findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from mailkit.data import ColumnSpec, FieldKind, TableSpec, load_records, read_table
from mailkit.errors import DataError
from mailkit.findings import Severity

HEADERS = ["Nr", "Imię", "PESEL", "E-mail", "Kwota"]
ROWS = [
    ["P1", "Łucja", "02270803624", "lucja@example.com", "1 234,56"],
    ["P2", "Żaneta", "85010112345", "zaneta@example.org", ""],
]


def spec(path: Path, **extra: object) -> TableSpec:
    columns = (
        ColumnSpec("id", "Nr"),
        ColumnSpec("imię", "Imię"),
        ColumnSpec("pesel", "PESEL", FieldKind.PESEL),
        ColumnSpec("email", "E-mail", FieldKind.EMAIL, required=True),
        ColumnSpec("kwota", "Kwota", FieldKind.MONEY),
    )
    return TableSpec(path, columns, key="id", **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1250", ";"), ("cp1250", ",")],
)
def test_csv_encodings_and_delimiters_are_detected(
    write_csv, encoding: str, delimiter: str
) -> None:
    path = write_csv("t.csv", [HEADERS, *ROWS], encoding=encoding, delimiter=delimiter)
    table = read_table(path)
    assert table.delimiter == delimiter
    assert table.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    assert table.headers == HEADERS
    assert table.frame["Imię"].tolist() == ["Łucja", "Żaneta"]


def test_identifiers_keep_leading_zeros_and_empty_cells_stay_empty(write_csv) -> None:
    path = write_csv("t.csv", [HEADERS, *ROWS], encoding="cp1250", delimiter=";")
    records = load_records(spec(path)).records
    assert records[0].values["pesel"] == "02270803624"
    assert records[1].values["kwota"] is None
    assert "nan" not in repr([r.values for r in records]).lower()


def test_xlsx_with_numbers_and_dates(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Nr", "Imię", "PESEL", "E-mail", "Kwota", "Termin"])
    sheet.append(
        ["P1", "Łucja", 2270803624, "lucja@example.com", 1234.5, dt.datetime(2026, 11, 22)]
    )
    path = tmp_path / "t.xlsx"
    book.save(path)
    columns = (
        *spec(path).columns,
        ColumnSpec("termin", "Termin", FieldKind.DATE),
    )
    checked = load_records(TableSpec(path, columns, key="id"))
    row = checked.records[0]
    assert row.values["pesel"] == "02270803624"  # Excel stored it as a number; repaired
    assert str(row.values["kwota"].amount) == "1234.50"
    assert row.values["termin"] == dt.date(2026, 11, 22)
    assert [f.code for f in checked.findings] == ["repaired-pesel"]


def test_each_finding_names_the_row_key_line_and_column(write_csv) -> None:
    rows = [
        HEADERS,
        ["P1", "Ala", "02270803625", "ala@example.com", "10"],  # bad PESEL check digit
        ["P2", "Ola", "85010112345", "", "x"],  # missing e-mail, bad amount
        ["P3", "Ela", "85010112345", "ela@example, com", "10"],  # bad address
    ]
    checked = load_records(spec(write_csv("t.csv", rows)))
    found = {(f.row, f.line, f.column, f.code) for f in checked.findings}
    assert ("P1", 2, "PESEL", "invalid-pesel") in found
    assert ("P2", 3, "E-mail", "missing") in found
    assert ("P2", 3, "Kwota", "invalid-money") in found
    assert ("P3", 4, "E-mail", "invalid-email") in found
    assert all(f.severity is Severity.ERROR for f in checked.findings)
    assert [r.blocked for r in checked.records] == [True, True, True]


def test_header_injection_in_a_cell_is_refused_before_any_message(write_csv) -> None:
    rows = [HEADERS, ["P1", "ACME\r\nBcc: spy@example.net", "02270803624", "a@example.com", "1"]]
    checked = load_records(spec(write_csv("t.csv", rows)))
    (finding,) = checked.findings
    assert (finding.row, finding.column, finding.code) == ("P1", "Imię", "unsafe-text")
    assert "line break" in finding.message
    assert checked.records[0].blocked


def test_two_addresses_in_the_email_cell_are_refused(write_csv) -> None:
    rows = [HEADERS, ["P1", "Ala", "02270803624", "a@example.com, spy@example.net", "1"]]
    (finding,) = load_records(spec(write_csv("t.csv", rows))).findings
    assert finding.column == "E-mail"
    assert "holds 2 addresses" in finding.message


def test_duplicates_are_reported(write_csv) -> None:
    rows = [
        HEADERS,
        ["P1", "Ala", "02270803624", "ala@example.com", "1"],
        ["P1", "Ala", "02270803624", "ala@example.com", "1"],  # the same row again
        ["P2", "Ola", "85010112345", "ala@example.com", "2"],  # another row, same address
        ["P2", "Ela", "85010112345", "ela@example.com", "3"],  # same key, different row
    ]
    checked = load_records(spec(write_csv("t.csv", rows), warn_shared_email=True))
    codes = [(f.line, f.code) for f in checked.findings]
    assert (3, "duplicate-row") in codes
    assert (5, "duplicate-key") in codes
    assert (4, "shared-email") in codes
    assert "row 2" in next(f.message for f in checked.findings if f.code == "duplicate-row")


def test_blank_lines_are_skipped_and_lines_still_match_the_sheet(write_csv) -> None:
    rows = [
        HEADERS,
        ["P1", "Ala", "02270803624", "ala@example.com", "1"],
        ["", "", "", "", ""],
        ["P3", "Ela", "85010112345", "bad", "3"],
    ]
    checked = load_records(spec(write_csv("t.csv", rows)))
    assert [r.key for r in checked.records] == ["P1", "P3"]
    assert checked.findings[0].line == 4


def test_a_missing_column_names_it_and_suggests_the_closest(write_csv) -> None:
    path = write_csv("t.csv", [["Nr", "Imie", "PESEL", "E-mail", "Kwota"], ROWS[0]])
    with pytest.raises(DataError, match=r'no column "Imię".*Did you mean "Imie"'):
        load_records(spec(path))


def test_unreadable_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot open"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.pdf").write_bytes(b"%PDF")
    with pytest.raises(DataError, match=r"\.csv and \.xlsx"):
        read_table(tmp_path / "t.pdf")


def test_mapping_suggestions_from_polish_and_english_headers() -> None:
    from mailkit.data import suggest_mapping

    headers = ["E-mail kontrahenta", "NIP nabywcy", "Termin płatności", "Amount paid", "Uwagi"]
    assert suggest_mapping(headers, ["email", "nip", "termin", "zapłacono", "pesel"]) == {
        "email": "E-mail kontrahenta",
        "nip": "NIP nabywcy",
        "termin": "Termin płatności",
        "zapłacono": "Amount paid",
    }
