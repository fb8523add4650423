"""Polish and English text: gettext catalogues (.po) read with Babel; English is the msgid."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["LANGUAGES", "N_", "_", "get_language", "language", "locale_for", "set_language"]

LANGUAGES = ("pl", "en")
_CATALOGUES = Path(__file__).parent / "locale"
_BABEL_LOCALES = {"pl": "pl_PL", "en": "en_GB"}


def _default_language() -> str:
    """MAILKIT_LANG wins; otherwise the POSIX locale; otherwise Polish, as the users are."""
    for var in ("MAILKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value[:2].lower() in LANGUAGES:
            return value[:2].lower()
        if value and var == "MAILKIT_LANG":
            break
    return "pl"


# A new thread starts from the default, so the default itself comes from the environment.
_DEFAULT = _default_language()
_current: ContextVar[str] = ContextVar("mailkit_language", default=_DEFAULT)


def get_language() -> str:
    """The language of messages in this context ('pl' or 'en')."""
    return _current.get()


def set_language(lang: str) -> None:
    """Switch messages in this context to ``lang`` ('pl' or 'en')."""
    lang = lang[:2].lower()
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current.set(lang)


@contextlib.contextmanager
def language(lang: str) -> Iterator[None]:
    """Use ``lang`` for messages inside the ``with`` block."""
    token = _current.set(lang[:2].lower() if lang[:2].lower() in LANGUAGES else "en")
    try:
        yield
    finally:
        _current.reset(token)


def locale_for(lang: str | None = None) -> str:
    """The Babel locale used for dates and amounts in ``lang`` (default: current)."""
    return _BABEL_LOCALES.get((lang or get_language())[:2].lower(), "pl_PL")


@cache
def _catalogue(lang: str) -> dict[str, str]:
    path = _CATALOGUES / lang / "LC_MESSAGES" / "mailkit.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def _(message: str) -> str:
    """Translate ``message`` into the current language (English text is the msgid)."""
    lang = _current.get()
    if lang == "en":
        return message
    return _catalogue(lang).get(message, message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message
