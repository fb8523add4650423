"""A prepared merge: the job's table read and checked, its template compiled, drafts on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .addresses import MailAddress, parse_address, parse_address_list
from .data import CheckedTable, Record, Records, check_table, group_overdue, load_records, read_spec
from .errors import ConfigError, DataError, MailkitError
from .formatting import format_value
from .gc_pause import heap_frozen
from .i18n import _
from .job import Job
from .macros import GROUP_MACROS, SEED_MACROS, macro_names, with_aliases
from .message import Draft, OutgoingMessage, freeze
from .templates import MessageTemplate, TemplateSource, compile_template

__all__ = ["Merge", "prepare"]

# Seed macros every job has, whatever its table maps.
_ALWAYS = ("firma", "wysyłający", "wystawiający", "dziś")

Cancel = Callable[[], bool]


@dataclass(frozen=True)
class _Identity:
    sender: MailAddress
    reply_to: tuple[MailAddress, ...]
    cc: tuple[MailAddress, ...]
    bcc: tuple[MailAddress, ...]


def _identity(job: Job) -> _Identity:
    spec = job.sender
    try:
        return _Identity(
            parse_address(spec.address, display_name=spec.name),
            parse_address_list(spec.reply_to),
            parse_address_list(spec.cc),
            parse_address_list(spec.bcc),
        )
    except DataError as err:
        raise ConfigError(
            _("[sender]: {reason}").format(reason=err.message), setting="sender"
        ) from err


def _known_names(job: Job, records: Records) -> list[str]:
    names = {c.field for c in records.spec.columns}
    if job.customers:
        names.update(c.field for c in job.customers.columns)
    if job.kind == "overdue":
        names.update(("numery", "numer", "z_dnia", "termin", *macro_names(GROUP_MACROS)))
    names.update(_ALWAYS)
    aliased = set(names)
    for m in (*SEED_MACROS, *GROUP_MACROS):
        if m.ident in names:
            aliased.add(m.alias)
    return sorted(aliased)


def _load(job: Job) -> Records:
    if job.kind != "overdue":
        return load_records(job.data)
    with heap_frozen():
        invoices = check_table(read_spec(job.data), job.data)
    spec = job.customers
    loader = None
    if spec is not None:
        table = read_spec(spec)

        def loader(keys: set[str]) -> CheckedTable:
            return check_table(table, spec, only_keys=keys)

    with heap_frozen():
        return group_overdue(
            invoices, job.as_of or dt.date.today(), group_field=job.group_by, customers=loader
        )


class Merge:
    """A job made ready: records checked, template compiled; renders drafts row by row."""

    def __init__(
        self,
        job: Job,
        records: Records,
        template: MessageTemplate,
        name_template: MessageTemplate | None,
    ) -> None:
        self.job = job
        self.records = records
        self.template = template
        self.identity = _identity(job)
        self._name_template = name_template
        self._by_key = {r.key: r for r in records.records}
        self._common = {
            "firma": job.company,
            "wysyłający": job.sender.name or job.sender.address,
            "wystawiający": "",
            "dziś": job.as_of or dt.date.today(),
        }

    @property
    def findings(self) -> tuple[Any, ...]:
        """What reading the tables found (preflight adds what rendering finds)."""
        return self.records.findings

    def keys(self) -> list[str]:
        """Row keys in file order."""
        return list(self._by_key)

    def record(self, key: str) -> Record:
        """The record for ``key``; DataError naming the key when there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise DataError(
                _("there is no row {key} in this job").format(key=key), row=key
            ) from None

    def context(self, record: Record) -> dict[str, Any]:
        """What the template sees for ``record``: its fields, the seed macros, English aliases."""
        values: dict[str, Any] = dict(self._common)
        values.update({k: v for k, v in record.values.items() if v is not None or k not in values})
        return with_aliases(values, (*SEED_MACROS, *GROUP_MACROS))

    def draft(self, record: Record) -> Draft:
        """Merge ``record`` into a Draft; MailkitError says which row and what is wrong."""
        ctx = self.context(record)
        rendered = self.template.render(ctx, row=record.key)
        to: MailAddress | None = record.values.get("email")
        if to is None:
            raise DataError(
                _("Row {row}: there is no valid recipient address").format(row=record.key),
                row=record.key,
                column="email",
            )
        name = _recipient_name(self._name_template, ctx, record.key)
        if name:
            to = to.with_name(name)
        ident = self.identity
        return Draft(
            key=record.key,
            sender=ident.sender,
            to=(to,),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            cc=(*ident.cc, *(record.values.get("cc") or ())),
            bcc=(*ident.bcc, *(record.values.get("bcc") or ())),
            reply_to=ident.reply_to,
        )

    def drafts(self, cancel: Cancel | None = None) -> Iterator[tuple[Record, Draft | MailkitError]]:
        """Every record with its draft, or with the error that stopped it (blocked rows skipped)."""
        for record in self.records.records:
            if cancel and cancel():
                return
            if record.blocked:
                continue
            try:
                yield record, self.draft(record)
            except MailkitError as err:
                yield record, err

    def messages(self, cancel: Cancel | None = None) -> Iterator[Built]:
        """Every unblocked record rendered and frozen into bytes, or the error that stopped it."""
        with heap_frozen():
            for record, draft in self.drafts(cancel):
                if isinstance(draft, MailkitError):
                    yield Built(record, None, None, draft)
                    continue
                try:
                    yield Built(record, draft, freeze(draft), None)
                except MailkitError as err:
                    yield Built(record, draft, None, err)


@dataclass(frozen=True, slots=True)
class Built:
    """One row through the pipeline: its draft and frozen message, or the error instead."""

    record: Record
    draft: Draft | None
    message: OutgoingMessage | None
    error: MailkitError | None


def _name_template(job: Job, known: list[str]) -> MessageTemplate | None:
    text = job.recipient_name
    if not text and "kontrahent" in known:
        text = "{kontrahent}"
    if not text:
        return None
    return compile_template(TemplateSource(subject=text, text=" ", language=job.language), known)


def _recipient_name(template: MessageTemplate | None, ctx: dict[str, Any], row: str) -> str:
    """The To display name; a lone macro such as ``{kontrahent}`` needs no template run."""
    if template is None:
        return ""
    field = template.lone_macro
    if field is not None:
        return format_value(ctx.get(field), template.locale)
    return template.render(ctx, row=row).subject


def prepare(job: Job, *, records: Records | None = None) -> Merge:
    """Load and check the job's tables and compile its template; MailkitError if it cannot."""
    records = records if records is not None else _load(job)
    known = _known_names(job, records)
    template = compile_template(job.template, known)
    return Merge(job, records, template, _name_template(job, known))
