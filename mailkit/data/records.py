"""Map a table's own headers to fields, read every cell as its kind, and report each problem.

Checks run column by column (vectorised where pandas can, once per distinct value where it
cannot), so 100,000 rows take a fraction of a second; row objects are made only when asked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from ..errors import DataError
from ..findings import Finding, Severity
from ..formatting import Money
from ..i18n import _
from ..text import UNSAFE_PATTERN, single_line_problem
from .fields import FieldKind, parse_amount, parse_cell
from .load import RawTable, read_table

__all__ = [
    "CheckedTable",
    "ColumnSpec",
    "MoneyColumn",
    "Record",
    "Records",
    "TableSpec",
    "check_table",
    "load_records",
    "to_records",
]


@dataclass(frozen=True)
class ColumnSpec:
    """One mapping entry: the job's field name, the file's header, what the cells hold."""

    field: str
    header: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    multiline: bool = False


@dataclass(frozen=True)
class TableSpec:
    """How to read one table: where it is, how its headers map to fields, what its key is."""

    path: Path
    columns: tuple[ColumnSpec, ...]
    key: str | None = None
    unique_key: bool = True
    warn_shared_email: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def column(self, name: str) -> ColumnSpec | None:
        """The column mapped to field ``name``, if any."""
        return next((c for c in self.columns if c.field == name), None)

    def header(self, name: str) -> str:
        """The file's header for field ``name`` (the field name itself if unmapped)."""
        col = self.column(name)
        return col.header if col else name


@dataclass(frozen=True, slots=True)
class Record:
    """One row read and checked: its key, its row in the sheet and its typed values."""

    key: str
    line: int
    values: Mapping[str, Any]
    blocked: bool = False


@dataclass(frozen=True)
class Records:
    """Rows ready to merge, with the findings that reading them produced."""

    records: tuple[Record, ...]
    findings: tuple[Finding, ...]
    table: RawTable
    spec: TableSpec
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class CheckedTable:
    """A table checked column by column: typed columns, row keys, rows blocked by errors."""

    table: RawTable
    spec: TableSpec
    keys: list[str]
    lines: list[int]
    columns: dict[str, Sequence[Any]]
    blocked: set[int]
    findings: list[Finding]

    def __len__(self) -> int:
        return len(self.keys)

    def record(self, pos: int) -> Record:
        """The row at position ``pos`` as a Record."""
        key = self.keys[pos] or _("row {line}").format(line=self.lines[pos])
        values = {name: col[pos] for name, col in self.columns.items()}
        return Record(key, self.lines[pos], values, pos in self.blocked)

    @cached_property
    def records(self) -> Records:
        """Every row as a Record (made once, on first use)."""
        rows = tuple(self.record(pos) for pos in range(len(self.keys)))
        return Records(rows, tuple(self.findings), self.table, self.spec)


class _Collector:
    """Gathers findings for a table and remembers which rows are blocked."""

    def __init__(self, keys: list[str], lines: list[int]) -> None:
        self.keys = keys
        self.lines = lines
        self.findings: list[Finding] = []
        self.blocked: set[int] = set()

    def add(self, pos: int, severity: Severity, code: str, message: str, column: str) -> None:
        key = self.keys[pos] or None
        self.findings.append(Finding(severity, code, message, key, column, self.lines[pos]))
        if severity is Severity.ERROR:
            self.blocked.add(pos)


def _missing_headers(spec: TableSpec, table: RawTable) -> None:
    headers = table.headers
    wanted = {c.header: c.field for c in spec.columns}
    missing = [h for h in wanted if h not in headers]
    if not missing:
        return
    header = missing[0]
    close = difflib.get_close_matches(header, headers, n=1)
    hint = _(' Did you mean "{close}"?').format(close=close[0]) if close else ""
    raise DataError(
        _(
            '{source} has no column "{header}" (mapped to field {field}).{hint} '
            "Its columns are: {headers}."
        ).format(
            source=table.source,
            header=header,
            field=wanted[header],
            hint=hint,
            headers=", ".join(f'"{h}"' for h in headers),
        ),
        column=header,
    )


_CENT = Decimal("0.01")
_SIMPLE_AMOUNT = r"-?\d+(?:[.,]\d{1,2})?"
# Literal characters, not regex escapes: pyarrow's RE2 runs this in bulk only then.
_AMOUNT_NOISE = "[ \t\u00a0\u202f']|zł|Zł|ZŁ|PLN|pln"  # spaces, apostrophes, "zł", "PLN"


class MoneyColumn(Sequence[Money | None]):
    """Amounts of one column: checked in bulk, made into Money objects only when read.

    ``numbers`` holds them as floats (NaN where empty or bad) for vectorised comparisons;
    100,000 Money objects would cost more than reading the whole file.
    """

    def __init__(self, plain: list[str], numbers: np.ndarray, exact: dict[int, Money]) -> None:
        self._plain = plain
        self.numbers = numbers
        self._exact = exact  # amounts in unusual forms, parsed one by one

    def __len__(self) -> int:
        return len(self._plain)

    @overload
    def __getitem__(self, pos: int) -> Money | None: ...
    @overload
    def __getitem__(self, pos: slice) -> list[Money | None]: ...
    def __getitem__(self, pos: int | slice) -> Money | list[Money | None] | None:
        if type(pos) is int:
            plain = self._plain[pos]
            if plain:  # at most two decimals (see _SIMPLE_AMOUNT): quantize never rounds
                return Money(Decimal(plain).quantize(_CENT))
            return self._exact.get(pos) if self._exact else None
        assert isinstance(pos, slice)
        return [self[i] for i in range(*pos.indices(len(self)))]

    def clear(self, pos: int) -> None:
        """Forget a bad cell's value."""
        self._plain[pos] = ""
        self._exact.pop(pos, None)
        self.numbers[pos] = np.nan


def _money_column(texts: list[str], stripped: pd.Series) -> tuple[MoneyColumn, dict[int, str]]:
    """Amounts: the usual forms ('1234,56', '1 234.56 zł') read in bulk, the rest one by one."""
    noisy = stripped.str.contains(_AMOUNT_NOISE, regex=True).fillna(False)
    cleaned = stripped.str.replace(_AMOUNT_NOISE, "", regex=True) if noisy.any() else stripped
    simple = cleaned.str.fullmatch(_SIMPLE_AMOUNT).fillna(False)
    plain = cleaned.where(simple, "").str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(plain, errors="coerce")
    column = MoneyColumn(plain.tolist(), numbers.to_numpy(dtype=float, copy=True), {})
    errors: dict[int, str] = {}
    for pos in (~simple & (stripped != "")).to_numpy().nonzero()[0].tolist():
        try:
            money = Money(parse_amount(texts[pos]))
        except DataError as err:
            errors[pos] = err.message
            continue
        column._exact[pos] = money
        column.numbers[pos] = float(money.amount)
    return column, errors


def _distinct_values(
    kind: FieldKind, stripped: pd.Series
) -> tuple[list[Any], dict[int, str], dict[int, str]]:
    """Parse each distinct cell once; (values, errors by row, warnings by row)."""
    codes, uniques = pd.factorize(stripped)
    parsed: list[Any] = []
    problems: list[str | None] = []
    notes: list[str | None] = []
    for text in uniques.tolist():
        value, problem, note = None, None, None
        if text:
            try:
                value, note = parse_cell(kind, text)
            except DataError as err:
                problem = err.message
        parsed.append(value)
        problems.append(problem)
        notes.append(note)
    values = np.array([*parsed, None], dtype=object)[codes].tolist()  # code -1 is "missing"
    errors = _by_row(codes, problems)
    warnings = _by_row(codes, notes)
    return values, errors, warnings


def _by_row(codes: np.ndarray, per_value: list[str | None]) -> dict[int, str]:
    """Row -> message, for the rows whose distinct value has a message."""
    flagged = [i for i, message in enumerate(per_value) if message]
    if not flagged:
        return {}
    rows = np.flatnonzero(np.isin(codes, flagged)).tolist()
    return {pos: str(per_value[codes[pos]]) for pos in rows}


def _forget(values: list[Any] | MoneyColumn, pos: int) -> None:
    if isinstance(values, MoneyColumn):
        values.clear(pos)
    else:
        values[pos] = None


def _read_column(spec: ColumnSpec, cells: pd.Series, out: _Collector) -> Sequence[Any]:
    """Typed values of one column; bad cells become None and a finding."""
    stripped = cells.str.strip()
    texts: list[str] = stripped.tolist()
    warnings: dict[int, str] = {}
    values: list[Any] | MoneyColumn
    if spec.kind is FieldKind.TEXT:
        values = [t or None for t in texts]
        errors: dict[int, str] = {}
    elif spec.kind is FieldKind.MONEY:
        values, errors = _money_column(texts, stripped)
    else:
        values, errors, warnings = _distinct_values(spec.kind, stripped)
    for pos, message in errors.items():
        _forget(values, pos)
        out.add(pos, Severity.ERROR, f"invalid-{spec.kind.value}", message, spec.header)
    if not spec.multiline:
        for pos in cells.str.contains(UNSAFE_PATTERN).to_numpy().nonzero()[0].tolist():
            problem = single_line_problem(texts[pos]) or _("it contains a control character")
            _forget(values, pos)
            out.add(
                pos,
                Severity.ERROR,
                "unsafe-text",
                _("the value is refused: {problem}").format(problem=problem),
                spec.header,
            )
    for pos, message in warnings.items():
        out.add(pos, Severity.WARNING, f"repaired-{spec.kind.value}", message, spec.header)
    if spec.required:
        for pos, text in enumerate(texts):
            if not text:
                out.add(pos, Severity.ERROR, "missing", _("the value is missing"), spec.header)
    return values


def _check_duplicates(spec: TableSpec, frame: pd.DataFrame, out: _Collector) -> None:
    """Rows repeated exactly, and keys used twice; only the repeats are looked at one by one."""
    whole = frame.duplicated(keep=False).tolist()
    first: dict[tuple[str, ...], int] = {}
    repeats: set[int] = set()
    if any(whole):
        for pos, row in enumerate(frame.itertuples(index=False, name=None)):
            if not whole[pos]:
                continue
            if row in first:
                repeats.add(pos)
                out.add(
                    pos,
                    Severity.ERROR,
                    "duplicate-row",
                    _("this row repeats row {line} exactly; remove one of them").format(
                        line=first[row]
                    ),
                    "",
                )
            else:
                first[row] = out.lines[pos]
    if not (spec.key and spec.unique_key):
        return
    keys = pd.Series(out.keys)
    dup = (keys.duplicated(keep=False) & (keys != "")).tolist()
    seen: dict[str, int] = {}
    for pos, is_dup in enumerate(dup):
        if not is_dup or pos in repeats:
            continue
        key = out.keys[pos]
        if key in seen:
            out.add(
                pos,
                Severity.ERROR,
                "duplicate-key",
                _("{key} appears again (first in row {line}); each row needs its own key").format(
                    key=key, line=seen[key]
                ),
                spec.header(spec.key),
            )
        else:
            seen[key] = out.lines[pos]


def _check_shared_email(values: Sequence[Any], header: str, out: _Collector) -> None:
    owner: dict[str, int] = {}
    for pos, addr in enumerate(values):
        if addr is None:
            continue
        text = addr.addr_spec.casefold()
        if text in owner and out.keys[owner[text]] != out.keys[pos]:
            out.add(
                pos,
                Severity.WARNING,
                "shared-email",
                _(
                    "{address} is also the address in row {line}; check that it is meant for both"
                ).format(address=addr.addr_spec, line=out.lines[owner[text]]),
                header,
            )
        owner.setdefault(text, pos)


_LOOSE = r"[\s.\-/]"


def _loose(key: str) -> str:
    return re.sub(_LOOSE, "", key.upper()).removeprefix("PL")


def _key_text(value: Any, raw: str) -> str:
    """A key in its clean form (NIP without dashes); the cell as written when it is invalid."""
    if value is None:
        return raw
    return str(getattr(value, "addr_spec", value))


def check_table(
    table: RawTable, spec: TableSpec, *, only_keys: Collection[str] | None = None
) -> CheckedTable:
    """Read every mapped column and check every row (or only rows whose key is in
    ``only_keys``); a bad cell is a finding, never an exception."""
    _missing_headers(spec, table)
    frame = table.frame[[c.header for c in spec.columns]]
    key_col = spec.column(spec.key) if spec.key else None
    if only_keys is not None and key_col is not None:
        # A loose match keeps '526-025-02-74' for '5260250274'; exact keys are compared later.
        wanted = {_loose(k) for k in only_keys}
        loose = frame[key_col.header].str.upper().str.replace(_LOOSE, "", regex=True)
        frame = frame[loose.str.removeprefix("PL").isin(wanted)]
    lines = [int(i) + 2 for i in frame.index]  # the header is row 1 of the sheet
    keys = frame[key_col.header].str.strip().tolist() if key_col else [""] * len(frame)
    out = _Collector(keys, lines)
    columns: dict[str, Sequence[Any]] = {}
    if key_col is not None:  # read the key first so that findings name rows by its clean form
        parsed = _read_column(key_col, frame[key_col.header], out)
        out.keys[:] = [_key_text(v, raw) for v, raw in zip(parsed, keys, strict=True)]
        columns[key_col.field] = parsed
    for col in spec.columns:
        if col is not key_col:
            columns[col.field] = _read_column(col, frame[col.header], out)
    _check_duplicates(spec, frame, out)
    email = spec.column("email")
    if spec.warn_shared_email and email:
        _check_shared_email(columns["email"], email.header, out)
    out.findings.sort(key=lambda f: (f.line or 0, f.column or ""))
    ordered = {c.field: columns[c.field] for c in spec.columns}
    return CheckedTable(table, spec, out.keys, lines, ordered, out.blocked, out.findings)


def to_records(table: RawTable, spec: TableSpec) -> Records:
    """Every row of ``table`` checked and made into a Record."""
    return check_table(table, spec).records


def read_spec(spec: TableSpec, data: bytes | None = None) -> RawTable:
    """Read the file a TableSpec names (or uploaded ``data`` for it)."""
    return read_table(
        spec.path, data=data, encoding=spec.encoding, delimiter=spec.delimiter, sheet=spec.sheet
    )


def load_records(spec: TableSpec, *, data: bytes | None = None) -> Records:
    """Read the file named by ``spec`` (or uploaded ``data``) and check it."""
    return to_records(read_spec(spec, data), spec)
