"""What each message carries: the job's generated document and files matched to the row, protected.

Files are matched by a path pattern (``payslips/{id}.pdf``) or a column holding the path. A row
whose file is missing, or whose file another row claims too, gets an error naming both rows.
Attachment and ZIP member names follow a pattern that, by default, carries no PESEL or surname.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

from .config import Secret
from .data import FieldKind, Record
from .documents import DocumentMaker
from .errors import AttachmentError, ConfigError, MailkitError, ProtectionError
from .findings import Finding, Severity
from .i18n import _
from .job import Job
from .jobsections import AttachmentSettings
from .message import Attachment
from .passwords import Passwords, protection_enabled
from .protect import PDF_AES256, ZIP_AES256, encrypt_pdf, is_pdf, verify_pdf, verify_zip, zip_files
from .templates import MessageTemplate, Rendered, TemplateSource, compile_template

__all__ = ["AttachmentPlan", "FileMatcher", "safe_filename"]

Context = Callable[[Record], Mapping[str, Any]]

# Neutral default names per job language: no PESEL, no surname (ZIP member names are readable
# without the password, and attachment names show in every mail list).
_DEFAULT_NAMES = {
    "pl": {
        "payslip": "pasek-wynagrodzen.pdf",
        "statement": "zestawienie-zaleglosci.pdf",
        "file": "zalacznik",
        "zip": "zalaczniki.zip",
    },
    "en": {
        "payslip": "payslip.pdf",
        "statement": "overdue-statement.pdf",
        "file": "attachment",
        "zip": "attachments.zip",
    },
}
_SENSITIVE_FIELDS = frozenset({"nazwisko", "surname", "last_name", "pesel"})
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_filename(name: str, fallback: str) -> str:
    """``name`` usable on every system: no path separators, reserved or control characters."""
    cleaned = _UNSAFE_NAME.sub("-", name).strip(" .-")
    return cleaned or fallback


def _compile(pattern: str, known: list[str], lang: str) -> MessageTemplate:
    return compile_template(TemplateSource(subject=pattern, text=" ", language=lang), known)


class FileMatcher:
    """Finds each row's files; knows which file more than one row claims."""

    def __init__(self, settings: AttachmentSettings, job: Job, known: list[str]) -> None:
        self.base = settings.base
        self.field = settings.path_field
        if self.field and job.data.column(self.field) is None:
            raise ConfigError(
                _("attachments.path_field names {field}, which [data.columns] does not map").format(
                    field=self.field
                ),
                setting="attachments.path_field",
            )
        # Each path component is filled in on its own, so a value can never add a folder or "..".
        self.patterns = [
            [_compile(part, known, job.language) for part in PurePath(p).parts]
            for p in settings.files
        ]
        self.claims: dict[Path, list[str]] = {}
        self._found: dict[str, list[Path]] = {}  # each indexed row's files
        self._folders: dict[Path, Path] = {}  # each folder, symbolic links resolved

    def index(self, records: Iterable[Record], context: Context) -> None:
        """Note which rows claim which file (done once, for the whole table)."""
        for record in records:
            try:
                paths = self.paths(record, context(record))
            except MailkitError:
                continue  # the row's own error shows when it is merged
            self._found[record.key] = paths
            for path in paths:
                self.claims.setdefault(path, []).append(record.key)

    def paths(self, record: Record, ctx: Mapping[str, Any]) -> list[Path]:
        """The row's files, resolved; AttachmentError when a value makes an unsafe path."""
        out = []
        for parts in self.patterns:
            names = [
                t.render_subject(ctx, row=record.key) if t.names else t.source.subject
                for t in parts
            ]
            for template, name in zip(parts, names, strict=True):
                if template.names and (name in ("", ".", "..") or re.search(r"[\\/]", name)):
                    raise AttachmentError(
                        _(
                            'Row {row}: the file pattern gives "{name}", which is not a file name; '
                            "check the values it uses"
                        ).format(row=record.key, name=name),
                        row=record.key,
                    )
            out.append(Path(*names))
        if self.field:
            value = record.values.get(self.field)
            if value:
                out.append(Path(str(value)).expanduser())
        return [self._resolved(p if p.is_absolute() else self.base / p) for p in out]

    def _resolved(self, path: Path) -> Path:
        """``path.resolve()``, with each folder resolved once: thousands of rows share one."""
        if path.name in ("", ".", ".."):
            return path.resolve()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        full = folder / path.name
        return full.resolve() if full.is_symlink() else full

    def read(self, record: Record, ctx: Mapping[str, Any]) -> list[tuple[Path, bytes]]:
        """The row's files with their contents; AttachmentError for a missing or shared file."""
        out = []
        found = self._found.get(record.key)
        for path in found if found is not None else self.paths(record, ctx):
            others = [k for k in self.claims.get(path, ()) if k != record.key]
            if others:
                raise AttachmentError(
                    _(
                        "Row {row}: the file {path} is also matched to row(s) {others}; each row "
                        "needs its own file"
                    ).format(row=record.key, path=path, others=", ".join(others)),
                    row=record.key,
                    path=str(path),
                )
            try:
                out.append((path, path.read_bytes()))
            except OSError as err:
                raise AttachmentError(
                    _("Row {row}: the attachment {path} cannot be read: {reason}").format(
                        row=record.key, path=path, reason=err.strerror or err
                    ),
                    row=record.key,
                    path=str(path),
                ) from err
        if not out:
            raise AttachmentError(
                _("Row {row}: no file to attach (the path column is empty)").format(row=record.key),
                row=record.key,
            )
        return out


class AttachmentPlan:
    """A job's attachments, row by row: generated, matched, named, protected and verified."""

    def __init__(
        self, job: Job, records: tuple[Record, ...], known: list[str], context: Context
    ) -> None:
        settings = job.attachments
        assert settings is not None
        self.settings = settings
        self.names = _DEFAULT_NAMES.get(job.language, _DEFAULT_NAMES["en"])
        self.maker = DocumentMaker(settings, job) if settings.generate else None
        self.matcher: FileMatcher | None = None
        if settings.files or settings.path_field:
            self.matcher = FileMatcher(settings, job, known)
            self.matcher.index(records, context)
        self.name = _compile(settings.name, known, job.language) if settings.name else None
        zip_name = settings.zip_name or self.names["zip"]
        self.zip_name = _compile(zip_name, known, job.language)
        self.passwords = (
            Passwords(job, records, known, context) if protection_enabled(job) else None
        )
        self._job = job

    def findings(self, template: MessageTemplate) -> list[Finding]:
        """Job-wide warnings: weak password sources, hints, names that reveal a person."""
        out = self.passwords.findings(template) if self.passwords else []
        named = set(self.zip_name.names) | (set(self.name.names) if self.name else set())
        kinds = {c.field: c.kind for c in self._job.data.columns}
        risky = sorted(
            f for f in named if f in _SENSITIVE_FIELDS or kinds.get(f) is FieldKind.PESEL
        )
        if risky:
            out.append(
                Finding(
                    Severity.WARNING,
                    "revealing-name",
                    _(
                        "attachment names use {fields}; names are readable without the password "
                        "(also inside a ZIP), so leave PESEL and surname out of them"
                    ).format(fields=", ".join("{" + f + "}" for f in risky)),
                )
            )
        return out

    def build(
        self, record: Record, ctx: Mapping[str, Any], rendered: Rendered, recipient: str
    ) -> tuple[Attachment, ...]:
        """The row's attachments, protected when the job says so; MailkitError if impossible."""
        password = None
        if self.passwords is not None:
            password = self.passwords.password(record, ctx)
            self.passwords.check_message(record, password, rendered)
        files = self._files(record, ctx, recipient, compress=password is None)
        if password is None:
            return tuple(Attachment(n, c, _mimetype(n)) for n, c in files)
        return self._protect(record, ctx, files, password)

    def _files(
        self, record: Record, ctx: Mapping[str, Any], recipient: str, *, compress: bool
    ) -> list[tuple[str, bytes]]:
        """(name, content) of each file: default stems unless the job names them."""
        raw: list[tuple[str, str, bytes]] = []  # default stem, suffix, content
        if self.maker is not None:
            stem = PurePath(self.names[self.maker.kind]).stem
            raw.append((stem, ".pdf", self.maker.make(ctx, recipient, compress=compress)))
        if self.matcher is not None:
            raw.extend(
                (self.names["file"], p.suffix, data) for p, data in self.matcher.read(record, ctx)
            )
        chosen = self.name.render_subject(ctx, row=record.key) if self.name else ""
        chosen = _stem(safe_filename(chosen, ""), {s for _d, s, _c in raw})
        taken: set[str] = set()
        out = []
        for default, suffix, data in raw:
            stem = chosen or default
            name, n = stem + suffix, 2
            while name.casefold() in taken:  # two files, one pattern: payslip.pdf, payslip-2.pdf
                name, n = f"{stem}-{n}{suffix}", n + 1
            taken.add(name.casefold())
            out.append((name, data))
        return out

    def _protect(
        self,
        record: Record,
        ctx: Mapping[str, Any],
        files: list[tuple[str, bytes]],
        password: Secret,
    ) -> tuple[Attachment, ...]:
        secret = password.reveal()
        out = []
        others = []
        try:
            for name, data in files:
                if is_pdf(data):
                    locked = encrypt_pdf(data, secret)
                    verify_pdf(locked, secret)
                    out.append(Attachment(name, locked, "application/pdf", PDF_AES256))
                else:
                    others.append((name, data))
            if others:
                zip_name = safe_filename(self.zip_name.render_subject(ctx, row=record.key), "")
                zip_name = (
                    _stem(zip_name, {".zip"}) or _stem(self.names["zip"], {".zip"})
                ) + ".zip"
                locked = zip_files(others, secret)
                verify_zip(locked, secret, others)
                out.append(Attachment(zip_name, locked, "application/zip", ZIP_AES256))
        except ProtectionError as err:
            raise ProtectionError(
                _("Row {row}: {reason}; nothing is sent unprotected").format(
                    row=record.key, reason=err.message
                ),
                row=record.key,
            ) from err
        return tuple(out)


def _stem(name: str, suffixes: set[str]) -> str:
    """``name`` without an extension the file gets anyway ('pasek-10.2026' keeps its '.2026')."""
    suffix = PurePath(name).suffix
    return name[: -len(suffix)] if suffix and suffix.lower() in suffixes else name


def _mimetype(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
