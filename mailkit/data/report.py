"""Write reports (findings, outbox status, logs) as CSV or XLSX that a spreadsheet opens safely."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from ..i18n import _

__all__ = ["neutralise", "write_report"]

# A cell starting with one of these is run as a formula by Excel and LibreOffice
# (OWASP "CSV injection"); tab and carriage return start one too in some versions.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that would start a formula gets a leading apostrophe; other values are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_report(
    rows: Iterable[Mapping[str, Any]], path: str | Path, columns: list[str] | None = None
) -> Path:
    """Write ``rows`` to ``path`` (.csv UTF-8 with BOM, for Excel, or .xlsx); every cell is text
    or a number, never a live formula."""
    target = Path(path)
    frame = pd.DataFrame(
        [{k: neutralise(v) for k, v in row.items()} for row in rows], columns=columns
    )
    frame = frame.astype(object).where(frame.notna(), "")
    try:
        if target.suffix.lower() == ".xlsx":
            with pd.ExcelWriter(target, engine="openpyxl") as writer:
                frame.to_excel(writer, index=False)
                for row in writer.sheets["Sheet1"].iter_rows(min_row=2):
                    for cell in row:
                        if isinstance(cell.value, str):
                            cell.data_type = "s"  # stored as text even if it looks like =...
        elif target.suffix.lower() == ".csv":
            frame.to_csv(target, index=False, encoding="utf-8-sig")
        else:
            raise DataError(
                _("reports are written as .csv or .xlsx, not {name}").format(name=target.name)
            )
    except OSError as err:
        raise DataError(
            _("cannot write {path}: {reason}").format(path=target, reason=err.strerror or err)
        ) from err
    return target
