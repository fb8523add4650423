"""What the workbench app does to a job: open it, load another table, remap, re-date, retemplate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .catalog import CatalogTemplate, Listed
from .data import ColumnSpec, RawTable, read_table, suggest_mapping
from .errors import ConfigError
from .i18n import _
from .identity import SenderIdentity, account_identity
from .job import Job, load_job
from .labels import scope_label
from .macros import GROUP_MACROS, ITEM_MACROS, SEED_MACROS, describe
from .merge import Merge, known_macros, prepare
from .preview import MessageView, view
from .saved_accounts import get_account, list_accounts
from .saved_jobs import get_job, list_jobs
from .store import Scope, SettingsStore
from .templates import HTML_LIMIT, Rendered, TemplateSource, compile_template

__all__ = [
    "HTML_LIMIT",
    "PaletteEntry",
    "SampleJob",
    "catalogue_templates",
    "chosen_job",
    "chosen_sender",
    "html_size",
    "job_choices",
    "load_upload",
    "macro_palette",
    "message_view",
    "redate",
    "remap",
    "render_row",
    "retemplate",
    "sample_jobs",
    "sender_choices",
    "suggest_columns",
    "template_type",
    "type_choices",
    "use_table",
]


@dataclass(frozen=True)
class SampleJob:
    """A job file offered in the app: its path and the name written in it."""

    path: Path
    name: str


def sample_jobs(folder: str | Path) -> list[SampleJob]:
    """The job files in ``folder``, named by their ``name`` setting (else the file name)."""
    out = []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            with path.open("rb") as fh:
                name = str(tomllib.load(fh).get("name") or path.stem)
        except (OSError, tomllib.TOMLDecodeError):
            name = path.stem
        out.append(SampleJob(path, name))
    return out


SAVED = "saved:"  # what a saved job's value in ``job_choices`` starts with


def job_choices(samples: list[SampleJob], store: SettingsStore | None) -> list[tuple[str, str]]:
    """The jobs the app offers, as (label, value): the sample files (value: the path), then
    the jobs saved in the store (value: ``saved:<scope>:<name>``), in the current language."""
    out = [(s.name, str(s.path)) for s in samples]
    for job in list_jobs(store) if store is not None else []:
        label = _("{name} (saved, {scope})").format(name=job.name, scope=scope_label(job.scope))
        out.append((label, f"{SAVED}{job.scope.value}:{job.name}"))
    return out


def chosen_job(value: str, store: SettingsStore | None) -> Job:
    """The job a ``job_choices`` value names: a job file, or a job saved in ``store``."""
    if not value.startswith(SAVED):
        return load_job(value)
    scope, _sep, name = value.removeprefix(SAVED).partition(":")
    saved = get_job(store, name, Scope(scope)) if store is not None else None
    if saved is None:
        raise ConfigError(
            _("the saved job {name} is no longer there; reload the page to see the jobs now saved")
            .format(name=name),
            setting="job",
        )  # fmt: skip
    return saved.job()


def load_upload(name: str, data: bytes) -> RawTable:
    """An uploaded CSV or XLSX file read as text cells (nothing is written to disk)."""
    return read_table(name, data=data)


def suggest_columns(job: Job, headers: list[str]) -> dict[str, str]:
    """For each field of the job's table: the job's own header when the file has it, else the
    best-matching header of the file ('' when none fits)."""
    fields = [c.field for c in job.data.columns]
    guessed = suggest_mapping(headers, fields)
    out = {}
    for col in job.data.columns:
        out[col.field] = col.header if col.header in headers else guessed.get(col.field, "")
    return out


def remap(job: Job, mapping: Mapping[str, str], *, source: str | None = None) -> Job:
    """The job with its table's fields mapped to other headers (``''`` leaves a field out).

    A required field left out is a ConfigError naming it; ``source`` renames the table (an
    uploaded file's name).
    """
    columns: list[ColumnSpec] = []
    for col in job.data.columns:
        header = mapping.get(col.field, col.header).strip()
        if not header:
            if col.required or col.field == job.data.key:
                raise ConfigError(
                    _("choose the column that holds {field}: the job needs it").format(
                        field=col.field
                    ),
                    setting=f"data.columns.{col.field}",
                )
            continue
        columns.append(dataclasses.replace(col, header=header))
    path = job.data.path if source is None else job.base / Path(source).name
    spec = dataclasses.replace(job.data, columns=tuple(columns), path=path)
    if source is not None:  # an upload is read with what was detected, not the job's settings
        spec = dataclasses.replace(spec, encoding=None, delimiter=None, sheet=None)
    return dataclasses.replace(job, data=spec)


def use_table(
    job: Job, table: RawTable, mapping: Mapping[str, str], as_of: dt.date | None = None
) -> Merge:
    """``job`` run on another main table (an upload), mapped by ``mapping``."""
    own = Path(table.source).name == job.data.path.name  # the job's own file, remapped
    job = remap(job, mapping, source=None if own else table.source)
    if as_of is not None:
        job = dataclasses.replace(job, as_of=as_of)
    return prepare(job, table=table)


def redate(merge: Merge, as_of: dt.date) -> Merge:
    """Reminders regrouped as of another date (the same invoices, nothing read again)."""
    job = dataclasses.replace(merge.job, as_of=as_of)
    return prepare(job, table=merge.records.table)


def retemplate(merge: Merge, source: TemplateSource) -> Merge:
    """The same rows with another template; TemplateError names an unknown macro."""
    return prepare(dataclasses.replace(merge.job, template=source), records=merge.records)


def render_row(merge: Merge, source: TemplateSource, key: str) -> Rendered:
    """``source`` filled in for row ``key`` without touching the merge (a live preview)."""
    template = compile_template(source, known_macros(merge))
    return template.render(merge.context(merge.record(key)), row=key)


def html_size(html: str) -> int:
    """Bytes of an HTML template as the 32 KB limit counts them (UTF-8)."""
    return len(html.encode("utf-8"))


@dataclass(frozen=True)
class PaletteEntry:
    """A macro offered in the editor: what is inserted and what it holds."""

    text: str
    description: str


def macro_palette(merge: Merge) -> list[PaletteEntry]:
    """The macros this job's template may use, as written by users, with descriptions."""
    known = set(known_macros(merge))
    out: list[PaletteEntry] = []
    seen: set[str] = set()
    for macro in (*SEED_MACROS, *GROUP_MACROS):
        if macro.ident in known and macro.ident != "faktury":
            out.append(PaletteEntry("{" + macro.name + "}", describe(macro.name)))
            seen.update((macro.ident, macro.alias))
    headers = {c.field: c.header for c in merge.records.spec.columns}
    if merge.job.customers is not None:
        headers.update({c.field: c.header for c in merge.job.customers.columns})
    for field in sorted(headers):
        if field not in seen and field in known:
            text = _('column "{column}"').format(column=headers[field])
            out.append(PaletteEntry("{" + field.replace("_", " ") + "}", text))
    if "faktury" in known:
        out.append(PaletteEntry(_invoice_loop(), describe("faktury")))
    return out


def _invoice_loop() -> str:
    keys = ", ".join("{{ f." + m.ident + " }}" for m in ITEM_MACROS)
    return "{% for f in faktury %}\n" + keys + "\n{% endfor %}"


def message_view(merge: Merge, key: str) -> MessageView:
    """Row ``key`` as its recipient will see it: drafted, attached, signed, read back."""
    draft = merge.draft(merge.record(key))
    return view(draft, merge.freeze(draft))


def catalogue_templates(
    store: SettingsStore | None, type: str | None = None
) -> list[Listed[CatalogTemplate]]:
    """Stored templates to offer: those that apply to the user (shipped, global, or personal
    when the user chose the personal configuration), then the user's other personal ones."""
    found = catalog.list_templates(store, type=type)
    if store is not None:
        seen = {(t.item.name, t.origin) for t in found}
        mine = catalog.list_templates(store, type=type, scope=Scope.PERSONAL)
        found += [t for t in mine if (t.item.name, t.origin) not in seen]
    return found


def template_type(store: SettingsStore | None, name: str) -> str:
    """The message type of the catalogue template called ``name`` ('' when none is)."""
    found = [t.item.type for t in catalogue_templates(store) if t.item.name == name]
    return found[0] if found else ""


def type_choices(store: SettingsStore | None, language: str | None = None) -> list[tuple[str, str]]:
    """The catalogue's message types as (name in ``language``, default the current one; type)."""
    return [(t.item.label(language), t.item.name) for t in catalog.list_types(store)]


def sender_choices(store: SettingsStore | None) -> list[tuple[str, str]]:
    """The accounts this user may send through (the seed's "Sender" list) as (label, value)."""
    if store is None:
        return []
    return [
        (f"{s.account.name} — {s.account.sender()} ({scope_label(s.scope)})",
         f"{s.scope.value}:{s.account.name}")
        for s in list_accounts(store, usable=True)
    ]  # fmt: skip


def chosen_sender(value: str, store: SettingsStore | None) -> SenderIdentity:
    """Who sends through the account a ``sender_choices`` value names (see account_identity)."""
    scope, _sep, name = value.partition(":")
    if store is None:
        raise ConfigError(_("There is no settings store here, so no account can be chosen."))
    return account_identity(store, get_account(store, name, Scope(scope)))  # gone: ConfigError
