"""Read one mapped column as its kind: in bulk where pandas can, once per distinct value where it
cannot; every bad cell becomes a finding that names the row and the column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

import numpy as np
import pandas as pd

from ..errors import DataError
from ..findings import Finding, Severity
from ..formatting import Money
from ..i18n import _
from ..text import UNSAFE_PATTERN, single_line_problem
from .fields import FieldKind, parse_amount, parse_cell

__all__ = ["Collector", "ColumnSpec", "MoneyColumn", "read_column"]


@dataclass(frozen=True)
class ColumnSpec:
    """One mapping entry: the job's field name, the file's header, what the cells hold."""

    field: str
    header: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    multiline: bool = False


class Collector:
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


def read_column(spec: ColumnSpec, cells: pd.Series, out: Collector) -> Sequence[Any]:
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
