"""A prepared merge: the job's table read and checked, its template compiled, drafts on demand."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .addresses import MailAddress, parse_address, parse_address_list
from .attachments import AttachmentPlan
from .config import Secret
from .data import (
    CheckedTable,
    RawTable,
    Record,
    Records,
    check_table,
    group_overdue,
    load_records,
    read_spec,
    to_records,
)
from .errors import ConfigError, DataError, MailkitError
from .findings import Finding, Severity
from .formatting import format_value
from .gc_pause import heap_frozen
from .i18n import _
from .job import Job
from .jobsections import signing_password_from_env
from .macros import GROUP_MACROS, SEED_MACROS, macro_names, with_aliases
from .message import Draft, OutgoingMessage, freeze
from .parallel import MIN_ROWS, parallel_messages, usable_cpus
from .signing import EXPIRY_WARNING_DAYS, Signer, load_signer
from .templates import MessageTemplate, TemplateSource, compile_template

__all__ = ["Merge", "known_macros", "prepare"]

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


def _load(job: Job, table: RawTable | None = None) -> Records:
    """Read and check the job's tables; ``table`` is its main table already read (an upload)."""
    if job.kind != "overdue":
        return load_records(job.data) if table is None else to_records(table, job.data)
    with heap_frozen():
        invoices = check_table(table if table is not None else read_spec(job.data), job.data)
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
        self.plan: AttachmentPlan | None = None  # attachments, protection: see _arm
        self.signer: Signer | None = None
        self.signing_password: Secret | None = None
        self._job_findings: tuple[Finding, ...] = ()

    def _arm(self, known: list[str], signing_password: Secret | None) -> None:
        """Set up attachments and signing; every settings problem is an error now, not later."""
        job, notes = self.job, []
        if job.attachments is not None and job.attachments.any:
            self.plan = AttachmentPlan(job, self.records.records, known, self.context)
            notes.extend(self.plan.findings(self.template))
        if job.signing is not None and job.signing.enabled:
            env = signing_password_from_env(job.signing)
            self.signing_password = signing_password or (Secret(env) if env else None)
            self.signer = load_signer(job.signing, self.signing_password, self.identity.sender)
            days = (self.signer.expires - dt.datetime.now(dt.UTC)).days
            if days < EXPIRY_WARNING_DAYS:
                text = _("the signing certificate expires in {days} day(s); renew it soon")
                notes.append(Finding(Severity.WARNING, "certificate", text.format(days=days)))
        self._job_findings = tuple(notes)

    @property
    def findings(self) -> tuple[Any, ...]:
        """What reading the tables and the job's settings found (preflight adds rendering's)."""
        return (*self.records.findings, *self._job_findings)

    @property
    def heavy(self) -> bool:
        """True when each row costs real CPU: a generated document or encryption."""
        plan = self.plan
        return plan is not None and (plan.maker is not None or plan.passwords is not None)

    def held(self) -> list[str]:
        """Rows held because their attachment password is empty; nothing of theirs is sent."""
        if self.plan is None or self.plan.passwords is None:
            return []
        return self.plan.passwords.held(self.records.records)

    def supply_passwords(self, passwords: Mapping[str, str | Secret]) -> None:
        """Passwords typed by the operator for held rows; ConfigError for any other row."""
        if passwords and (self.plan is None or self.plan.passwords is None):
            raise ConfigError(
                _("this job does not protect attachments, so it takes no passwords"),
                setting="protection",
            )
        if self.plan is not None and self.plan.passwords is not None:
            self.plan.passwords.supply(passwords)

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

    def subset(self, keys: Iterable[str]) -> Merge:
        """The same merge limited to rows ``keys`` (file order kept); DataError for unknown keys.

        A batch renders only the rows not yet in its journal, and "send to selected rows" only
        those rows.
        """
        wanted = set(keys)
        for key in wanted:
            self.record(key)
        rows = tuple(r for r in self.records.records if r.key in wanted)
        findings = tuple(f for f in self.records.findings if f.row is None or f.row in wanted)
        part = copy.copy(self)  # shares the compiled template and whatever else was prepared
        part.records = dataclasses.replace(self.records, records=rows, findings=findings)
        part._by_key = {r.key: r for r in rows}
        return part

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
        attachments = self.plan.build(record, ctx, rendered, name) if self.plan else ()
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
            attachments=attachments,
        )

    def freeze(self, draft: Draft) -> OutgoingMessage:
        """``draft`` as the bytes to send: signed (S/MIME) when the job signs."""
        out = freeze(draft)
        return self.signer.sign(out) if self.signer is not None else out

    def build(self, record: Record) -> Built:
        """One row through the whole pipeline: draft, attachments, bytes, signature."""
        try:
            draft = self.draft(record)
        except MailkitError as err:
            return Built(record, None, None, err)
        try:
            return Built(record, draft, self.freeze(draft), None)
        except MailkitError as err:
            return Built(record, draft, None, err)

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

    def messages(
        self,
        cancel: Cancel | None = None,
        *,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[Built]:
        """Every unblocked record rendered and frozen into bytes, or the error that stopped it.

        Rows with generated or encrypted attachments are built on ``workers`` processes (every
        usable core by default, for 100 rows or more); results come in row order either way.
        """
        rows = [r for r in self.records.records if not r.blocked]
        if workers is None:
            workers = usable_cpus() if self.heavy and len(rows) >= MIN_ROWS else 1
        if workers > 1:
            yield from parallel_messages(self, rows, workers, cancel, progress)
            return
        with heap_frozen():
            for done, record in enumerate(rows, 1):
                if cancel and cancel():
                    return
                yield self.build(record)
                if progress:
                    progress(done, len(rows))


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
    return template.render_subject(ctx, row=row)


def prepare(
    job: Job,
    *,
    records: Records | None = None,
    table: RawTable | None = None,
    passwords: Mapping[str, str | Secret] | None = None,
    signing_password: str | Secret | None = None,
) -> Merge:
    """Load and check the job's tables, compile its template, set up attachments and signing.

    ``passwords`` are typed passwords for held rows; ``signing_password`` opens the signing
    certificate (else the environment variable the job names); ``table`` is the job's main
    table already read (an uploaded file). MailkitError if it cannot.
    """
    records = records if records is not None else _load(job, table)
    known = _known_names(job, records)
    template = compile_template(job.template, known)
    merge = Merge(job, records, template, _name_template(job, known))
    if isinstance(signing_password, str):
        signing_password = Secret(signing_password)
    merge._arm(known, signing_password)
    merge.supply_passwords(passwords or {})
    return merge


def known_macros(merge: Merge) -> list[str]:
    """Every macro the merge's template may use: mapped fields, seed macros, English aliases."""
    return _known_names(merge.job, merge.records)
