"""``mailkit check``, ``keys``, ``preview``, ``columns`` and ``export``: the merge, nothing sent."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any

from ..data import read_table, suggest_mapping, write_report
from ..data.mapping import SYNONYMS
from ..export import export_drafts
from ..findings import format_finding
from ..i18n import _
from ..merge import prepare
from ..preflight import preflight
from ..preview import FORMATS, preview
from ..saved_jobs import open_job_or_file
from .common import EXIT_FINDINGS, EXIT_OK, out
from .protection_options import add_merge_options, password_notes, prepare_job

__all__ = ["register"]


def _check(ns: argparse.Namespace) -> int:
    merge = prepare_job(ns)
    report = preflight(merge)
    for line in (*report.lines(), *password_notes(merge)):
        out(line)
    if ns.report:
        write_report(report.table(), ns.report)
        out(_("report written to {path}").format(path=ns.report))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _preview(ns: argparse.Namespace) -> int:
    merge = prepare_job(ns)
    text = preview(merge, ns.row, ns.format)
    sys.stdout.write(text)
    return EXIT_OK


def _export(ns: argparse.Namespace) -> int:
    merge = prepare_job(ns)
    result = asyncio.run(export_drafts(merge, ns.out))
    for line in (*(format_finding(f) for f in result.skipped), *password_notes(merge)):
        out(line)
    out(
        _("{n} draft(s) written to {folder}; {skipped} row(s) left out").format(
            n=len(result.written), folder=ns.out, skipped=len(result.skipped)
        )
    )
    return EXIT_OK if not result.skipped else EXIT_FINDINGS


def _keys(ns: argparse.Namespace) -> int:
    merge = prepare(open_job_or_file(ns.job))
    for record in merge.records.records:
        email = record.values.get("email")
        out(f"{record.key}\t{email.addr_spec if email is not None else ''}")
    return EXIT_OK


def _columns(ns: argparse.Namespace) -> int:
    table = read_table(ns.file, encoding=ns.encoding, sheet=ns.sheet)
    out(
        _("# {file}: {rows} rows, encoding {encoding}, delimiter {delimiter!r}").format(
            file=table.source,
            rows=len(table.frame),
            encoding=table.encoding or "xlsx",
            delimiter=table.delimiter or "",
        )
    )
    fields = ns.fields.split(",") if ns.fields else list(SYNONYMS)
    suggested = suggest_mapping(table.headers, fields)
    out("[data.columns]")
    for field, header in suggested.items():
        out(f'"{field}" = "{header}"')
    for header in table.headers:
        if header not in suggested.values():
            name = re.sub(r"\W+", "_", header.casefold()).strip("_") or "kolumna"
            out(f'# "{name}" = "{header}"')
    return EXIT_OK


def register(commands: Any) -> None:
    """Add the merge sub-commands to ``commands``."""
    check = commands.add_parser("check", help=_("check every message of a job; send nothing"))
    check.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    check.add_argument("--report", metavar="FILE", help=_("also write the findings to .csv/.xlsx"))
    add_merge_options(check)
    check.set_defaults(handler=_check)

    show = commands.add_parser("preview", help=_("show one merged message"))
    show.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    show.add_argument("--row", required=True, help=_("the row key (e.g. employee id or NIP)"))
    show.add_argument("--format", choices=FORMATS, default="text", help=_("what to show"))
    add_merge_options(show)
    show.set_defaults(handler=_preview)

    keys = commands.add_parser("keys", help=_("list the row keys of a job, with recipients"))
    keys.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    keys.set_defaults(handler=_keys)

    columns = commands.add_parser(
        "columns", help=_("show a table's columns and suggest a [data.columns] mapping")
    )
    columns.add_argument("file", help=_("a .csv or .xlsx file"))
    columns.add_argument("--fields", help=_("the fields to look for, comma-separated"))
    columns.add_argument("--encoding", help=_("the CSV encoding, when it is not detected"))
    columns.add_argument("--sheet", help=_("the worksheet of an .xlsx file"))
    columns.set_defaults(handler=_columns)

    export = commands.add_parser("export", help=_("write every message as an .eml draft"))
    export.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    export.add_argument("--out", required=True, help=_("the folder for the .eml files"))
    add_merge_options(export)
    export.set_defaults(handler=_export)
