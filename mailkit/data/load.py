"""Read CSV (UTF-8, UTF-8 with BOM, cp1250; ',' or ';') and XLSX into a frame of text cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from ..i18n import _

__all__ = ["RawTable", "decode", "read_table", "sniff_delimiter"]

_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class RawTable:
    """A file read as text: every cell a str, empty cells '' (never NaN)."""

    frame: pd.DataFrame
    source: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @property
    def headers(self) -> list[str]:
        """The column headers as written in the file."""
        return [str(c) for c in self.frame.columns]


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``raw``: the given encoding, else UTF-8 (BOM or not), else cp1250 (Polish Excel)."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise DataError(
                _("the file cannot be read as {encoding}: {reason}").format(
                    encoding=encoding, reason=err
                )
            ) from err
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # UTF-8 validates itself; bytes that fail it are, for Polish users, Windows-1250.
        return raw.decode("cp1250", errors="replace"), "cp1250"


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: ',', ';', tab or '|' (Polish Excel writes ';')."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = text.split("\n", 1)[0]
        return max(_DELIMITERS, key=header.count)


def _read_csv(raw: bytes, source: str, encoding: str | None, delimiter: str | None) -> RawTable:
    text, used = decode(raw, encoding)
    sep = delimiter or sniff_delimiter(text)
    # Blank lines are kept (and dropped later) so that a row's index + 2 is its row number in a
    # spreadsheet; the pyarrow engine reads the same cells several times faster than "c".
    options: dict[str, Any] = {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "skip_blank_lines": False,
    }
    try:
        try:
            frame = pd.read_csv(
                io.BytesIO(text.encode("utf-8")), engine="pyarrow", encoding="utf-8", **options
            )
        except (ValueError, ImportError, pd.errors.ParserError):
            frame = pd.read_csv(io.StringIO(text), engine="c", na_filter=False, **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise DataError(
            _("{source} cannot be read as CSV: {reason}").format(source=source, reason=err)
        ) from err
    return RawTable(frame, source, used, sep)


def _read_xlsx(data: bytes | Path, source: str, sheet: str | None) -> RawTable:
    target = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        frame = pd.read_excel(
            target,
            sheet_name=sheet or 0,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="openpyxl",
        )
    except (ValueError, KeyError, OSError) as err:
        raise DataError(
            _("{source} cannot be read as an Excel workbook: {reason}").format(
                source=source, reason=err
            )
        ) from err
    return RawTable(frame.fillna(""), source, sheet=sheet or None)


def _drop_empty_rows(table: RawTable) -> RawTable:
    frame = table.frame
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame):
        keep = (frame != "").any(axis=1)
        if not keep.all():
            frame = frame[keep]
    return RawTable(frame, table.source, table.encoding, table.delimiter, table.sheet)


def read_table(
    source: str | Path,
    *,
    data: bytes | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read a CSV or XLSX file (or its ``data`` bytes, e.g. an upload) as text cells."""
    path = Path(source)
    name = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DataError(
                _("cannot open {path}: {reason}").format(path=path, reason=err.strerror or err)
            ) from err
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        table = _read_xlsx(data, name, sheet)
    elif path.suffix.lower() in {".csv", ".txt", ".tsv", ""}:
        table = _read_csv(data, name, encoding, delimiter)
    else:
        raise DataError(_("{name}: only .csv and .xlsx files can be loaded").format(name=name))
    return _drop_empty_rows(table)
