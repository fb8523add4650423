"""Job files (TOML): one merge described without secrets: data and mapping, template, sender."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import ColumnSpec, FieldKind, TableSpec, default_kind, field_name
from .errors import ConfigError, DataError
from .i18n import _
from .jobsections import (
    AttachmentSettings,
    ProtectionSettings,
    SigningSettings,
    parse_attachments,
    parse_protection,
    parse_signing,
)
from .sendspec import BatchSpec, ServerSpec, SinkSpec, parse_batch, parse_destination
from .templates import TemplateSource

__all__ = [
    "Destination",
    "Job",
    "SenderSpec",
    "load_job",
    "load_template",
    "parse_job",
]

KINDS = ("rows", "overdue")


@dataclass(frozen=True)
class SenderSpec:
    """Who the messages are from: name, address, Reply-To and CC/BCC for every message."""

    address: str
    name: str = ""
    reply_to: str = ""
    cc: str = ""
    bcc: str = ""


@dataclass(frozen=True)
class Destination:
    """Where messages go: ``files`` (.eml drafts in ``folder``), ``memory``, ``sink`` (the
    embedded local SMTP server), ``smtp`` or ``drafts`` (IMAP Drafts); ``spec`` holds the
    kind's settings (see ``mailkit.sendspec``)."""

    kind: str = "files"
    folder: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    spec: SinkSpec | ServerSpec | None = None


@dataclass(frozen=True)
class Job:
    """A whole merge: validated when built, changed by copy (``dataclasses.replace``)."""

    name: str
    kind: str
    data: TableSpec
    template: TemplateSource
    sender: SenderSpec
    destination: Destination = Destination()
    customers: TableSpec | None = None
    group_by: str = "nip"
    as_of: dt.date | None = None
    language: str = "pl"
    company: str = ""
    recipient_name: str = ""
    path: Path | None = None
    attachments: AttachmentSettings | None = None
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)
    signing: SigningSettings | None = None
    batch: BatchSpec = field(default_factory=BatchSpec)
    source: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The settings as read (TOML), to build the job again without its file (a saved job)."""

    @property
    def base(self) -> Path:
        """The folder that relative paths in the job file start from."""
        return self.path.parent if self.path else Path.cwd()


class _Section:
    """A TOML table read key by key; leftover keys are errors that name the setting."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = dict(data)
        self.where = where
        self.used: set[str] = set()

    def get(self, key: str, default: Any = None, kind: type | tuple[type, ...] = str) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind):
            raise ConfigError(
                _("{setting} must be {kind}, not {value!r}").format(
                    setting=self.name(key), kind=_kind_name(kind), value=value
                ),
                setting=self.name(key),
            )
        return value

    def require(self, key: str, kind: type | tuple[type, ...] = str) -> Any:
        value = self.get(key, None, kind)
        if value in (None, ""):
            raise ConfigError(
                _("{setting} is required").format(setting=self.name(key)), setting=self.name(key)
            )
        return value

    def section(self, key: str) -> _Section | None:
        value = self.get(key, None, dict)
        return None if value is None else _Section(value, self.name(key))

    def required_section(self, key: str) -> _Section:
        value = self.get(key, None, dict)
        if value is None:
            raise ConfigError(
                _("the job file needs a [{section}] section").format(section=self.name(key)),
                setting=self.name(key),
            )
        return _Section(value, self.name(key))

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                close = difflib.get_close_matches(key, sorted(self.used), n=1)
                hint = _(" Did you mean {close}?").format(close=close[0]) if close else ""
                raise ConfigError(
                    _("unknown setting {setting}.{hint}").format(setting=self.name(key), hint=hint),
                    setting=self.name(key),
                )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: _("text"),
        dict: _("a table"),
        bool: _("true or false"),
        int: _("a number"),
        list: _("a list"),
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return _(" or ").join(names.get(k, k.__name__) for k in kinds)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _columns(sec: _Section, required: tuple[str, ...]) -> tuple[ColumnSpec, ...]:
    mapping = sec.required_section("columns")
    out = []
    for raw_name in list(mapping.data):
        try:
            name = field_name(raw_name)
        except DataError as err:
            raise ConfigError(err.message, setting=mapping.name(raw_name)) from err
        value = mapping.get(raw_name, kind=(str, dict))
        if isinstance(value, str):
            out.append(ColumnSpec(name, value, default_kind(name), name in required))
            continue
        entry = _Section(value, mapping.name(raw_name))
        kind_text = entry.get("type", default_kind(name).value)
        try:
            kind = FieldKind(kind_text)
        except ValueError as err:
            raise ConfigError(
                _("{setting}: unknown type {kind}; use one of {kinds}").format(
                    setting=entry.name("type"),
                    kind=kind_text,
                    kinds=", ".join(k.value for k in FieldKind),
                ),
                setting=entry.name("type"),
            ) from err
        out.append(
            ColumnSpec(
                name,
                entry.require("column"),
                kind,
                entry.get("required", name in required, bool) or name in required,
                entry.get("multiline", False, bool),
            )
        )
        entry.finish()
    missing = [r for r in required if r not in {c.field for c in out}]
    if missing:
        raise ConfigError(
            _("{setting} must map the field(s) {fields}").format(
                setting=mapping.where, fields=", ".join(missing)
            ),
            setting=mapping.where,
        )
    mapping.finish()
    return tuple(out)


def _table(
    sec: _Section,
    base: Path,
    required: tuple[str, ...],
    *,
    shared_email: bool,
    default_key: str | None = None,
) -> TableSpec:
    columns = _columns(sec, required)
    key = sec.get("key", default_key)
    if key is not None:
        key = field_name(key)
        if key not in {c.field for c in columns}:
            raise ConfigError(
                _("{setting} names {key}, which is not mapped in {columns}").format(
                    setting=sec.name("key"), key=key, columns=sec.name("columns")
                ),
                setting=sec.name("key"),
            )
    spec = TableSpec(
        path=_resolve(base, sec.require("path")),
        columns=columns,
        key=key,
        unique_key=True,
        warn_shared_email=shared_email,
        encoding=sec.get("encoding"),
        delimiter=sec.get("delimiter"),
        sheet=sec.get("sheet"),
    )
    sec.finish()
    return spec


def load_template(path: Path) -> TemplateSource:
    """Read a template file (TOML: name, language, subject, text, html or html_file)."""
    doc = _read_toml(path)
    sec = _Section(doc, "")
    html = sec.get("html", "")
    html_file = sec.get("html_file")
    if html_file:
        html = _resolve(path.parent, html_file).read_text(encoding="utf-8")
    source = TemplateSource(
        subject=sec.require("subject"),
        text=sec.get("text", ""),
        html=html,
        name=sec.get("name", path.stem),
        language=sec.get("language", "pl"),
    )
    sec.get("type")
    sec.get("default", False, bool)
    sec.get("profiles", [], list)  # catalog metadata (mailkit.catalog), not needed to render
    sec.finish()
    return source


def _template(sec: _Section, base: Path) -> TemplateSource:
    path = sec.get("path")
    if path:
        source = load_template(_resolve(base, path))
    else:
        source = TemplateSource(
            subject=sec.require("subject"),
            text=sec.get("text", ""),
            html=sec.get("html", ""),
            name=sec.get("name", ""),
            language=sec.get("language", "pl"),
        )
    sec.finish()
    return source


def _sender(sec: _Section) -> SenderSpec:
    spec = SenderSpec(
        address=sec.require("address"),
        name=sec.get("name", ""),
        reply_to=sec.get("reply_to", ""),
        cc=sec.get("cc", ""),
        bcc=sec.get("bcc", ""),
    )
    sec.finish()
    return spec


def _destination(sec: _Section | None, base: Path) -> Destination:
    if sec is None:
        return Destination("files", base / "out")
    kind = sec.get("kind", "files")
    folder = sec.get("folder")
    spec = parse_destination(kind, sec, base)
    if spec is not None:
        sec.finish()
    options = {k: v for k, v in sec.data.items() if k not in sec.used}
    sec.used.update(options)
    return Destination(kind, _resolve(base, folder) if folder else None, options, spec)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ConfigError(
            _("cannot open {path}: {reason}").format(path=path, reason=err.strerror or err),
            setting=str(path),
        ) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            _("{path} is not valid TOML: {reason}").format(path=path, reason=err), setting=str(path)
        ) from err


def parse_job(doc: Mapping[str, Any], *, path: Path | None = None) -> Job:
    """Build a Job from a parsed TOML document; every problem is a ConfigError naming it."""
    base = path.parent if path else Path.cwd()
    top = _Section(doc, "")
    kind = top.get("kind", "rows")
    if kind not in KINDS:
        raise ConfigError(
            _("kind must be one of {kinds}, not {kind!r}").format(
                kinds=", ".join(KINDS), kind=kind
            ),
            setting="kind",
        )
    overdue = kind == "overdue"
    over = top.section("overdue") or _Section({}, "overdue")
    group_by = field_name(over.get("group_by", "nip"))
    as_of = over.get("as_of", None, (str, dt.date))
    over.finish()
    customers_sec = top.section("customers")
    data_required: tuple[str, ...] = (
        ("numer", "termin", "brutto", group_by) if overdue else ("email",)
    )
    if overdue and customers_sec is None:
        data_required += ("email",)
    data = _table(
        top.required_section("data"),
        base,
        data_required,
        shared_email=not overdue,
        default_key="numer" if overdue else None,
    )
    if not overdue and data.key is None:
        raise ConfigError(
            _('[data] needs key = "<field>": the field that names each row'), setting="data.key"
        )
    customers = (
        _table(customers_sec, base, ("email", group_by), shared_email=False, default_key=group_by)
        if customers_sec
        else None
    )
    job = Job(
        name=top.get("name", path.stem if path else "job"),
        kind=kind,
        data=data,
        template=_template(top.required_section("template"), base),
        sender=_sender(top.required_section("sender")),
        destination=_destination(top.section("destination"), base),
        customers=customers,
        group_by=group_by,
        as_of=_as_date(as_of),
        language=top.get("language", "pl"),
        company=top.get("company", ""),
        recipient_name=top.get("recipient_name", ""),
        path=path,
        attachments=parse_attachments(top.section("attachments"), base),
        protection=parse_protection(top.section("protection"), base),
        signing=parse_signing(top.section("signing"), base),
        batch=parse_batch(top.section("batch"), base),
        source=doc,
    )
    top.finish()
    return job


def _as_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise ConfigError(
            _("overdue.as_of must be a date such as 2026-11-22, not {value!r}").format(value=value),
            setting="overdue.as_of",
        ) from err


def load_job(path: str | Path) -> Job:
    """Read and validate a job file; relative paths in it start from its folder."""
    path = Path(path).resolve()
    return parse_job(_read_toml(path), path=path)
