"""The job file's [attachments], [protection] and [signing] sections, read strictly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError
from .i18n import _

if TYPE_CHECKING:
    from .job import _Section

__all__ = [
    "DOCUMENTS",
    "PASSWORD_SOURCES",
    "AttachmentSettings",
    "ProtectionSettings",
    "SigningSettings",
    "parse_attachments",
    "parse_protection",
    "parse_signing",
]

DOCUMENTS = ("payslip", "statement")
PASSWORD_SOURCES = ("column", "template", "random")
SIGNING_PASSWORD_ENV = "MAILKIT_SIGNING_PASSWORD"  # noqa: S105 - a variable's name


@dataclass(frozen=True)
class AttachmentSettings:
    """What each message carries: a generated document and/or files matched to the row."""

    generate: str = ""  # "payslip", "statement" or "" (none)
    files: tuple[str, ...] = ()  # patterns such as "payslips/{id}.pdf", relative to ``base``
    path_field: str = ""  # a field whose cell holds the file's path
    name: str = ""  # attachment / ZIP member name pattern; "" = a neutral default
    zip_name: str = ""  # the name of the ZIP that carries non-PDF files
    header: tuple[str, ...] = ()  # extra company header lines on generated documents
    font: Path | None = None  # a TTF with Polish letters; found automatically when None
    earnings: tuple[str, ...] | None = None  # payslip fields; None = from the mapping order
    deductions: tuple[str, ...] | None = None
    gross: str = "brutto"
    net: str = "do_wypłaty"
    base: Path = Path()

    @property
    def any(self) -> bool:
        """True when messages get at least one attachment."""
        return bool(self.generate or self.files or self.path_field)


@dataclass(frozen=True)
class ProtectionSettings:
    """Where each row's attachment password comes from; ``enabled=False`` sends files as they are.

    ``enabled=None`` means "not said in the job": attachments are protected when the table maps
    a ``pesel`` field or the job generates payslips, as in the seed programs.
    """

    enabled: bool | None = None
    source: str = "column"  # "column", "template" or "random"
    field: str = "pesel"
    template: str = ""
    report: Path | None = None  # random passwords for out-of-band delivery (0600)
    length: int = 16


@dataclass(frozen=True)
class SigningSettings:
    """S/MIME signing with the company's certificate; the password is never in the job file."""

    certificate: Path
    key: Path | None = None  # for PEM; a PKCS#12 file carries its own key
    chain: Path | None = None
    password_env: str = SIGNING_PASSWORD_ENV
    enabled: bool = True


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _strings(sec: _Section, key: str) -> tuple[str, ...] | None:
    value = sec.get(key, None, (str, list))
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ConfigError(
            _("{setting} must be text or a list of texts").format(setting=sec.name(key)),
            setting=sec.name(key),
        )
    return tuple(v.strip() for v in items)


def parse_attachments(sec: _Section | None, base: Path) -> AttachmentSettings | None:
    """[attachments]: generate, files, path_field, name, zip_name, header, font, payslip fields."""
    if sec is None:
        return None
    generate = sec.get("generate", "") or ""
    generate = "" if generate == "none" else generate
    if generate not in ("", *DOCUMENTS):
        raise ConfigError(
            _("{setting} must be one of {choices}, not {value!r}").format(
                setting=sec.name("generate"), choices=", ".join(DOCUMENTS), value=generate
            ),
            setting=sec.name("generate"),
        )
    font = sec.get("font")
    settings = AttachmentSettings(
        generate=generate,
        files=_strings(sec, "files") or (),
        path_field=sec.get("path_field", "") or "",
        name=sec.get("name", "") or "",
        zip_name=sec.get("zip_name", "") or "",
        header=_strings(sec, "header") or (),
        font=_path(base, font) if font else None,
        earnings=_strings(sec, "earnings"),
        deductions=_strings(sec, "deductions"),
        gross=sec.get("gross", "brutto"),
        net=sec.get("net", "do_wypłaty"),
        base=base,
    )
    sec.finish()
    return settings


def parse_protection(sec: _Section | None, base: Path) -> ProtectionSettings:
    """[protection]: enabled, source (column/template/random), field, template, report, length."""
    if sec is None:
        return ProtectionSettings()
    if "password" in sec.data:
        raise ConfigError(
            _(
                "{setting}: a password never goes into the job file; choose source = "
                '"column", "template" or "random"'
            ).format(setting=sec.name("password")),
            setting=sec.name("password"),
        )
    source = sec.get("source", "column")
    if source not in PASSWORD_SOURCES:
        raise ConfigError(
            _("{setting} must be one of {choices}, not {value!r}").format(
                setting=sec.name("source"), choices=", ".join(PASSWORD_SOURCES), value=source
            ),
            setting=sec.name("source"),
        )
    template = sec.get("template", "")
    if source == "template" and not template.strip():
        raise ConfigError(
            _('{setting} is required when source = "template"').format(
                setting=sec.name("template")
            ),
            setting=sec.name("template"),
        )
    length = sec.get("length", 16, int)
    if not 10 <= length <= 64:
        raise ConfigError(
            _("{setting} must be between 10 and 64").format(setting=sec.name("length")),
            setting=sec.name("length"),
        )
    report = sec.get("report")
    settings = ProtectionSettings(
        enabled=sec.get("enabled", None, bool),
        source=source,
        field=sec.get("field", "pesel"),
        template=template,
        report=_path(base, report) if report else None,
        length=length,
    )
    sec.finish()
    return settings


def parse_signing(sec: _Section | None, base: Path) -> SigningSettings | None:
    """[signing]: certificate (PKCS#12 or PEM), key, chain, password_env, enabled."""
    if sec is None:
        return None
    if "password" in sec.data:
        raise ConfigError(
            _(
                "{setting}: the certificate password must not be in the job file; put it in "
                "the environment variable named by password_env (default {env}) or enter it "
                "when asked"
            ).format(setting=sec.name("password"), env=SIGNING_PASSWORD_ENV),
            setting=sec.name("password"),
        )
    key = sec.get("key")
    chain = sec.get("chain")
    settings = SigningSettings(
        certificate=_path(base, sec.require("certificate")),
        key=_path(base, key) if key else None,
        chain=_path(base, chain) if chain else None,
        password_env=sec.get("password_env", SIGNING_PASSWORD_ENV),
        enabled=sec.get("enabled", True, bool),
    )
    sec.finish()
    return settings


def signing_password_from_env(settings: SigningSettings) -> str | None:
    """The certificate password from the environment variable the job names, if set."""
    return os.environ.get(settings.password_env) or None
