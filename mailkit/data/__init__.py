"""Tables in: CSV/XLSX read as text, mapped to fields, checked per row, invoices grouped.

This package is the only part of the core that uses pandas.
"""

from .fields import FieldKind, default_kind, field_name, parse_amount, parse_date
from .load import RawTable, read_table
from .mapping import suggest_mapping
from .overdue import AGE_BUCKETS, INVOICE_FIELDS, age_bucket, group_overdue
from .records import (
    CheckedTable,
    ColumnSpec,
    Record,
    Records,
    TableSpec,
    check_table,
    load_records,
    read_spec,
    to_records,
)
from .report import neutralise, write_report

__all__ = [
    "AGE_BUCKETS",
    "INVOICE_FIELDS",
    "CheckedTable",
    "ColumnSpec",
    "FieldKind",
    "RawTable",
    "Record",
    "Records",
    "TableSpec",
    "age_bucket",
    "check_table",
    "default_kind",
    "field_name",
    "group_overdue",
    "load_records",
    "neutralise",
    "parse_amount",
    "parse_date",
    "read_spec",
    "read_table",
    "suggest_mapping",
    "to_records",
    "write_report",
]
