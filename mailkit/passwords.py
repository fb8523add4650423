"""Each row's attachment password: from a column (PESEL by default), a template or random.

A row whose password comes out empty is held, never sent unprotected, until the operator gives
a password for it. Random passwords are kept in a 0600 report for out-of-band delivery, so every
run (check, export, send) uses the same ones.
"""

from __future__ import annotations

import csv
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .config import Secret
from .data import ColumnSpec, FieldKind, Record, neutralise
from .errors import ConfigError, MailkitError, ProtectionError
from .findings import Finding, Severity
from .i18n import _
from .job import Job
from .jobsections import ProtectionSettings
from .macros import GROUP_MACROS, SEED_MACROS
from .templates import MessageTemplate, Rendered, TemplateSource, compile_template

__all__ = ["MIN_MANUAL_LENGTH", "Passwords", "default_report_path", "protection_enabled"]

MIN_MANUAL_LENGTH = 8
# Letters and digits that cannot be mistaken for one another when read out or typed from paper;
# none starts a spreadsheet formula, so the report needs no escaping.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
_WEAK_KINDS = {FieldKind.PESEL: "PESEL", FieldKind.NIP: "NIP"}
_IDENTS = {m.alias: m.ident for m in (*SEED_MACROS, *GROUP_MACROS)}


def protection_enabled(job: Job) -> bool:
    """Whether attachments are protected: as the job says, else when it maps ``pesel`` or makes
    payslips (the seed programs protect payroll documents with the PESEL by default)."""
    att = job.attachments
    if att is None or not att.any:
        return False
    if job.protection.enabled is not None:
        return job.protection.enabled
    return att.generate == "payslip" or job.data.column("pesel") is not None


def default_report_path(job: Job) -> Path:
    """Where random passwords go when the job names no report: the user's data folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    stem = job.path.stem if job.path else job.name
    return Path(base) / "mailkit" / "passwords" / f"{stem}.csv"


class Passwords:
    """The password of every row of a protected job; checked when the merge is prepared."""

    def __init__(
        self,
        job: Job,
        records: Iterable[Record],
        known: list[str],
        context: Callable[[Record], Mapping[str, Any]],
    ) -> None:
        self.settings: ProtectionSettings = job.protection
        self.job = job
        # An overdue job's customer fields (its address, NIP) live in the customer table.
        specs = [s for s in (job.data, job.customers) if s is not None]
        self._columns: dict[str, ColumnSpec] = {c.field: c for s in specs for c in s.columns}
        self._context = context
        self._records = {r.key: r for r in records}
        self._manual: dict[str, Secret] = {}
        self._generated: dict[str, Secret] | None = None
        self._template: MessageTemplate | None = None
        self.fields = self._source_fields(known)
        self.report = self.settings.report or default_report_path(job)

    def _source_fields(self, known: list[str]) -> tuple[str, ...]:
        """The fields the password is made of; ConfigError when the source cannot work."""
        source = self.settings.source
        if source == "column":
            field = self.settings.field
            if field not in self._columns:
                raise ConfigError(
                    _(
                        "protection.field names {field}, which [data.columns] does not map; map "
                        "it, choose another source or set [protection] enabled = false"
                    ).format(field=field),
                    setting="protection.field",
                )
            return (field,)
        if source == "template":
            text = TemplateSource(
                subject=self.settings.template, text=" ", language=self.job.language
            )
            self._template = compile_template(text, known)
            return tuple(sorted(self._template.names))
        return ()

    # -- what the operator sees ------------------------------------------------------------

    def findings(self, template: MessageTemplate) -> list[Finding]:
        """Warnings about weak sources and hints; ConfigError when the e-mail shows the password."""
        out = []
        shown = self._check_template(template)
        kinds = set(self._kinds())
        if FieldKind.PESEL in kinds:
            text = _(
                "attachment passwords are made from PESEL: for anyone who knows a person's "
                "birth date only about 10,000 PESEL numbers remain to try. Prefer [protection] "
                'source = "random", with the passwords given another way.'
            )
            out.append(self._warning("weak-password", text))
        if FieldKind.NIP in kinds:
            text = _(
                "attachment passwords are made from NIP, which is public (invoices, the VAT "
                'register). Prefer [protection] source = "random", with the passwords given '
                "another way."
            )
            out.append(self._warning("weak-password", text))
        if shown:
            text = _(
                "the e-mail shows {fields}, which is part of the attachment password or hints "
                "at it; never give the password or a hint in the same e-mail"
            )
            out.append(self._warning("password-hint", text.format(fields=", ".join(shown))))
        return out

    def _kinds(self) -> list[FieldKind]:
        return [self._columns[f].kind for f in self.fields if f in self._columns]

    def _check_template(self, template: MessageTemplate) -> list[str]:
        """Fields of the password that the message template shows (all of it is an error)."""
        if not self.fields:
            return []
        names = {_IDENTS.get(n, n) for n in template.names}  # "{company}" is "{firma}"
        shown = sorted(set(self.fields) & names)
        if shown and set(self.fields) <= names:
            raise ConfigError(
                _(
                    "the message template shows {fields}, which is the attachment password: "
                    "remove it; never put the password or a hint in the same e-mail"
                ).format(fields=", ".join("{" + f + "}" for f in shown)),
                setting="template",
            )
        words = {self._header(f).casefold() for f in self.fields} | {
            _WEAK_KINDS[k].casefold() for k in self._kinds() if k in _WEAK_KINDS
        }
        body = " ".join((template.source.subject, template.source.text, template.source.html))
        hints = sorted(f'"{w.upper()}"' for w in words if w and w in body.casefold())
        return ["{" + f + "}" for f in shown] + hints

    def _header(self, field: str) -> str:
        column = self._columns.get(field)
        return column.header if column is not None else field

    def _warning(self, code: str, message: str) -> Finding:
        return Finding(Severity.WARNING, code, message)  # about the job, not a row

    def held(self, records: Iterable[Record] | None = None) -> list[str]:
        """Keys of rows without a password: their files would go out unprotected, so they wait."""
        rows = records if records is not None else self._records.values()
        out = []
        for record in rows:
            if record.blocked:
                continue
            try:
                secret = self._lookup(record)
            except MailkitError:
                continue  # not held: the row has an error of its own, which preflight shows
            if secret is None:
                out.append(record.key)
        return out

    # -- passwords ------------------------------------------------------------------------

    def supply(self, passwords: Mapping[str, str | Secret]) -> None:
        """Passwords the operator typed for held rows (the seed's manual-password dialog)."""
        for key, value in passwords.items():
            secret = value if isinstance(value, Secret) else Secret(value)
            record = self._records.get(key)
            if record is None:
                raise ConfigError(
                    _("there is no row {key} to give a password to").format(key=key),
                    setting="password",
                )
            if self._from_source(record) is not None:
                raise ConfigError(
                    _(
                        "row {key} already has a password from the job's password source; "
                        "a typed password is only for held rows"
                    ).format(key=key),
                    setting="password",
                )
            if len(secret.reveal()) < MIN_MANUAL_LENGTH:
                raise ConfigError(
                    _("the password for row {key} needs at least {n} characters").format(
                        key=key, n=MIN_MANUAL_LENGTH
                    ),
                    setting="password",
                )
            self._manual[key] = secret

    def password(self, record: Record, ctx: Mapping[str, Any]) -> Secret:
        """The row's password; ProtectionError (the row is held) when it has none."""
        secret = self._lookup(record, ctx)
        if secret is None:
            raise ProtectionError(self._held_reason(record), row=record.key)
        return secret

    def _lookup(self, record: Record, ctx: Mapping[str, Any] | None = None) -> Secret | None:
        return self._manual.get(record.key) or self._from_source(record, ctx)

    def _from_source(self, record: Record, ctx: Mapping[str, Any] | None = None) -> Secret | None:
        source = self.settings.source
        if source == "random":
            return self.generated().get(record.key)
        if source == "column":
            value = record.values.get(self.settings.field)
            text = "" if value is None else str(value).strip()
            return Secret(text) if text else None
        assert self._template is not None
        rendered = self._template.render(ctx or self._context(record), row=record.key)
        return Secret(rendered.subject) if rendered.subject else None

    def _held_reason(self, record: Record) -> str:
        if self.settings.source == "column":
            why = _('its password column "{column}" is empty').format(
                column=self._header(self.settings.field)
            )
        else:
            why = _("its password template gives an empty password")
        return _(
            "Row {row} is held: {why}. Nothing is sent unprotected: fill in the value, or give "
            "a password for this row (mailkit ... --password {row}=...)."
        ).format(row=record.key, why=why)

    def check_message(self, record: Record, password: Secret, rendered: Rendered) -> None:
        """ProtectionError when the merged e-mail itself contains the row's password."""
        secret = password.reveal()
        for part in (rendered.subject, rendered.text, rendered.html or ""):
            if secret in part:
                raise ProtectionError(
                    _(
                        "Row {row}: the e-mail contains the attachment password; remove it "
                        "from the template and send the password another way"
                    ).format(row=record.key),
                    row=record.key,
                )

    # -- random passwords -------------------------------------------------------------------

    def generated(self) -> dict[str, Secret]:
        """Random passwords by row, read from the report or made and written there once."""
        if self._generated is None:
            stored = _read_report(self.report)
            missing = [r for r in self._records.values() if r.key not in stored]
            for record in missing:
                stored[record.key] = Secret(self._random())
            if missing:
                _write_report(self.report, self._records.values(), stored)
            self._generated = stored
        return self._generated

    def _random(self) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(self.settings.length))

    def export_state(self) -> tuple[dict[str, str], dict[str, str] | None]:
        """Typed and random passwords as plain text, only to hand to this job's worker processes."""
        manual = {k: v.reveal() for k, v in self._manual.items()}
        made = self.generated() if self.settings.source == "random" else None
        return manual, ({k: v.reveal() for k, v in made.items()} if made is not None else None)

    def import_state(self, manual: Mapping[str, str], generated: Mapping[str, str] | None) -> None:
        """Take over the parent process's passwords (see ``export_state``)."""
        self._manual = {k: Secret(v) for k, v in manual.items()}
        if generated is not None:
            self._generated = {k: Secret(v) for k, v in generated.items()}


_REPORT_COLUMNS = ("row", "email", "password")


def _read_report(path: Path) -> dict[str, Secret]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        return {}
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        raise ConfigError(
            _("cannot read the password report {path}: {reason}").format(path=path, reason=err),
            setting="protection.report",
        ) from err
    if rows and not set(_REPORT_COLUMNS) <= set(rows[0]):
        raise ConfigError(
            _("{path} is not a mailkit password report (columns {columns})").format(
                path=path, columns=", ".join(_REPORT_COLUMNS)
            ),
            setting="protection.report",
        )
    return {r["row"].removeprefix("'"): Secret(r["password"]) for r in rows if r["password"]}


def _write_report(path: Path, records: Iterable[Record], passwords: Mapping[str, Secret]) -> None:
    """Write the report readable by its owner only, atomically (a reader never sees half)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a new folder: private
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".passwords-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:  # mkstemp: mode 0600
            writer = csv.writer(fh)
            writer.writerow(_REPORT_COLUMNS)
            for record in records:
                email = record.values.get("email")
                secret = passwords.get(record.key)
                if secret is not None:
                    address = email.addr_spec if email is not None else ""
                    writer.writerow([neutralise(record.key), neutralise(address), secret.reveal()])
        os.replace(tmp, path)
    except OSError as err:
        raise ConfigError(
            _("cannot write the password report {path}: {reason}").format(
                path=path, reason=err.strerror or err
            ),
            setting="protection.report",
        ) from err
