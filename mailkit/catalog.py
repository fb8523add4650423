"""Message types and templates: shipped defaults, global and personal ones, a default per type."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import ConfigError, TemplateError
from .i18n import _, get_language
from .job import _Section
from .labels import scope_label
from .macros import GROUP_MACROS, SEED_MACROS, macro_names
from .store import Scope, SettingsStore
from .templates import TemplateSource, compile_template

__all__ = [
    "CatalogTemplate",
    "Listed",
    "MessageType",
    "Origin",
    "check_name",
    "default_template",
    "delete_template",
    "delete_type",
    "get_template",
    "get_type",
    "list_templates",
    "list_types",
    "save_template",
    "save_type",
    "shipped_templates",
    "shipped_types",
    "template_from_dict",
    "template_to_dict",
    "type_from_dict",
    "type_to_dict",
]

TEMPLATE = "template"
TYPE = "type"
DEFAULTS = Path(__file__).parent / "defaults"
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,80}$")
T = TypeVar("T")


class Origin(StrEnum):
    """Where an item comes from; later ones override earlier ones of the same name."""

    SHIPPED = "shipped"
    GLOBAL = "global"
    PERSONAL = "personal"


@dataclass(frozen=True)
class MessageType:
    """A kind of message (payslip, reminder, ...), available to some profiles or to all."""

    name: str  # the ID users filter by, e.g. "pasek"
    title: str = ""  # Polish display name
    title_en: str = ""
    description: str = ""
    profiles: tuple[str, ...] = ()  # () = every user

    def __post_init__(self) -> None:
        check_name(self.name, "type.name")

    def label(self, language: str | None = None) -> str:
        """The display name in ``language`` (default: the current one)."""
        lang = language or get_language()
        return (self.title_en if lang == "en" else self.title) or self.title or self.name


@dataclass(frozen=True)
class CatalogTemplate:
    """A template with its catalog data: type, language, default flag and profiles."""

    name: str
    type: str
    subject: str
    text: str = ""
    html: str = ""
    language: str = "pl"
    default: bool = False
    profiles: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_name(self.name, "template.name")

    def source(self) -> TemplateSource:
        """What the merge compiles."""
        return TemplateSource(self.subject, self.text, self.html, self.name, self.language)


@dataclass(frozen=True)
class Listed(Generic[T]):
    """An item with where it comes from and its stored revision (0 for shipped ones)."""

    item: T
    origin: Origin
    revision: int = 0


def check_name(name: str, setting: str) -> None:
    if not _NAME.match(name) or name != name.strip():
        raise ConfigError(
            _("{setting} must be 1 to 80 characters on one line").format(setting=setting),
            setting=setting,
        )


def _available(profiles: tuple[str, ...], mine: frozenset[str]) -> bool:
    return not profiles or bool(mine.intersection(profiles))


# -- plain data ----------------------------------------------------------------------------


def type_to_dict(item: MessageType) -> dict[str, Any]:
    """A type as plain data (TOML/JSON)."""
    return {
        "name": item.name,
        "title": item.title,
        "title_en": item.title_en,
        "description": item.description,
        "profiles": list(item.profiles),
    }


def type_from_dict(data: Mapping[str, Any], where: str = "type") -> MessageType:
    """A type from plain data; unknown keys are errors naming the setting."""
    sec = _Section(data, where)
    item = MessageType(
        name=sec.require("name"),
        title=sec.get("title", ""),
        title_en=sec.get("title_en", ""),
        description=sec.get("description", ""),
        profiles=tuple(str(p) for p in sec.get("profiles", [], list)),
    )
    sec.finish()
    return item


def template_to_dict(item: CatalogTemplate) -> dict[str, Any]:
    """A template as plain data, in the template file format (see ``data/templates``)."""
    return {
        "name": item.name,
        "type": item.type,
        "language": item.language,
        "default": item.default,
        "profiles": list(item.profiles),
        "subject": item.subject,
        "text": item.text,
        "html": item.html,
    }


def template_from_dict(data: Mapping[str, Any], where: str = "template") -> CatalogTemplate:
    """A template from plain data (a template file's keys)."""
    sec = _Section(data, where)
    item = CatalogTemplate(
        name=sec.require("name"),
        type=sec.require("type"),
        subject=sec.require("subject"),
        text=sec.get("text", ""),
        html=sec.get("html", ""),
        language=sec.get("language", "pl"),
        default=sec.get("default", False, bool),
        profiles=tuple(str(p) for p in sec.get("profiles", [], list)),
    )
    sec.finish()
    return item


N = TypeVar("N", MessageType, CatalogTemplate)


# -- shipped defaults ------------------------------------------------------------------------


@cache
def shipped_types() -> tuple[MessageType, ...]:
    """The message types mailkit ships (payslip, PIT-11, ZUS forms, reminders)."""
    with (DEFAULTS / "types.toml").open("rb") as fh:
        doc = tomllib.load(fh)
    return tuple(type_from_dict(d, f"types.toml: {d.get('name')}") for d in doc["types"])


@cache
def shipped_templates() -> tuple[CatalogTemplate, ...]:
    """The templates mailkit ships, in Polish and English."""
    out = []
    for path in sorted((DEFAULTS / "templates").glob("*.toml")):
        with path.open("rb") as fh:
            out.append(template_from_dict(tomllib.load(fh), path.name))
    return tuple(out)


# -- types -------------------------------------------------------------------------------------


def _merged(
    shipped: tuple[N, ...], kind: str, store: SettingsStore | None, scope: Scope | None, read: Any
) -> list[Listed[N]]:
    """Items of one scope, or (scope None) shipped < global < personal, by name."""
    if scope is not None:
        if store is None:
            return []
        return [
            Listed(read(e.body), Origin(e.scope.value), e.revision)
            for e in store.entries(kind, scope)
        ]
    out: dict[str, Listed[N]] = {i.name: Listed(i, Origin.SHIPPED) for i in shipped}
    if store is not None:
        for entry in store.effective(kind).values():
            out[entry.name] = Listed(read(entry.body), Origin(entry.scope.value), entry.revision)
    return sorted(out.values(), key=lambda listed: listed.item.name)


def list_types(
    store: SettingsStore | None = None,
    *,
    text: str = "",
    scope: Scope | None = None,
    available: bool = True,
) -> list[Listed[MessageType]]:
    """Types in ``scope`` (None: what applies to the user), filtered by name or title."""
    mine = store.profiles() if store is not None else frozenset()
    needle = text.casefold()
    return [
        t
        for t in _merged(shipped_types(), TYPE, store, scope, type_from_dict)
        if (not needle or needle in f"{t.item.name} {t.item.title} {t.item.title_en}".casefold())
        and (not available or _available(t.item.profiles, mine))
    ]


def get_type(
    store: SettingsStore | None, name: str, scope: Scope | None = None
) -> Listed[MessageType]:
    """One type by name (ID); ConfigError listing the known ones."""
    found = [t for t in list_types(store, scope=scope, available=False) if t.item.name == name]
    if not found:
        known = ", ".join(t.item.name for t in list_types(store)) or _("none")
        raise ConfigError(
            _("there is no message type {name}; known types: {known}").format(
                name=name, known=known
            ),
            setting="type",
        )
    return found[0]


def save_type(
    store: SettingsStore, item: MessageType, scope: Scope, *, expected_revision: int | None = None
) -> Listed[MessageType]:
    """Save a type in ``scope`` (global ones need the manage right)."""
    entry = store.put(
        TYPE, item.name, type_to_dict(item), scope, expected_revision=expected_revision
    )
    return Listed(item, Origin(entry.scope.value), entry.revision)


def delete_type(store: SettingsStore, name: str, scope: Scope) -> None:
    """Delete a stored type; shipped ones cannot be deleted, only overridden."""
    if not store.delete(TYPE, name, scope):
        raise ConfigError(
            _("there is no {scope} message type {name}").format(
                scope=scope_label(scope), name=name
            ),
            setting="type",
        )


# -- templates -------------------------------------------------------------------------------


def list_templates(
    store: SettingsStore | None = None,
    *,
    type: str | None = None,
    language: str | None = None,
    text: str = "",
    scope: Scope | None = None,
    available: bool = True,
) -> list[Listed[CatalogTemplate]]:
    """Templates in ``scope`` (None: what applies to the user), filtered like the seed's list."""
    mine = store.profiles() if store is not None else frozenset()
    types = {t.item.name: t.item for t in list_types(store, available=False)}
    needle = text.casefold()
    out = []
    for t in _merged(shipped_templates(), TEMPLATE, store, scope, template_from_dict):
        item = t.item
        if (type and item.type != type) or (language and item.language != language):
            continue
        if needle and needle not in f"{item.name} {item.subject}".casefold():
            continue
        kind = types.get(item.type)
        if available and not (
            _available(item.profiles, mine) and (kind is None or _available(kind.profiles, mine))
        ):
            continue
        out.append(t)
    return out


def get_template(
    store: SettingsStore | None, name: str, scope: Scope | None = None
) -> Listed[CatalogTemplate]:
    """One template by name; ConfigError listing the known ones."""
    found = [t for t in list_templates(store, scope=scope, available=False) if t.item.name == name]
    if not found:
        known = ", ".join(t.item.name for t in list_templates(store)) or _("none")
        raise ConfigError(
            _("there is no template {name}; known templates: {known}").format(
                name=name, known=known
            ),
            setting="template",
        )
    return found[0]


def _check_template(store: SettingsStore, item: CatalogTemplate) -> None:
    known_types = {t.name for t in shipped_types()} | {e.name for e in store.entries(TYPE)}
    if item.type not in known_types:
        get_type(store, item.type)  # the error listing the known types
    known = macro_names((*SEED_MACROS, *GROUP_MACROS))
    try:
        compile_template(item.source(), known)
    except TemplateError as err:
        if err.macro is None:  # a job's own fields are checked by preflight, not here
            raise


def save_template(
    store: SettingsStore,
    item: CatalogTemplate,
    scope: Scope,
    *,
    expected_revision: int | None = None,
) -> Listed[CatalogTemplate]:
    """Check and save a template; a default one replaces the default of its type and language."""
    _check_template(store, item)
    with store.transaction() as db:
        entry = store.put(
            TEMPLATE,
            item.name,
            template_to_dict(item),
            scope,
            expected_revision=expected_revision,
            db=db,
        )
        if item.default:
            for other in store.entries(TEMPLATE, scope):
                body = other.body
                if (
                    other.name != item.name
                    and body.get("default")
                    and (body.get("type"), body.get("language")) == (item.type, item.language)
                ):
                    store.put(TEMPLATE, other.name, dict(body, default=False), scope, db=db)
    return Listed(item, Origin(entry.scope.value), entry.revision)


def delete_template(store: SettingsStore, name: str, scope: Scope) -> None:
    """Delete a stored template (a shipped one of the same name shows again)."""
    if not store.delete(TEMPLATE, name, scope):
        raise ConfigError(
            _("there is no {scope} template {name}").format(scope=scope_label(scope), name=name),
            setting="template",
        )


_ORDER = {Origin.PERSONAL: 0, Origin.GLOBAL: 1, Origin.SHIPPED: 2}


def default_template(
    store: SettingsStore | None, type: str, language: str = "pl"
) -> Listed[CatalogTemplate]:
    """The default template of ``type`` in ``language``: the user's own, else the company's,
    else the shipped one; a template of that type when none is marked default."""
    found = list_templates(store, type=type, language=language)
    if not found:
        raise ConfigError(
            _("there is no {language} template of type {type}").format(
                language=language, type=type
            ),
            setting="template",
        )
    found.sort(key=lambda t: (not t.item.default, _ORDER[t.origin], t.item.name))
    return found[0]
