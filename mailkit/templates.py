"""Message templates: the seed's ``{macro}`` syntax plus Jinja2 loops, in a strict sandbox."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from typing import Any

from inscriptis import get_text
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError
from .formatting import format_date, format_money, format_number, format_value
from .i18n import N_, _, locale_for
from .macros import SEED_MACROS, Item
from .text import single_line_problem

__all__ = [
    "HTML_LIMIT",
    "MessageTemplate",
    "Rendered",
    "TemplateSource",
    "compile_template",
    "html_problems",
]

HTML_LIMIT = 32 * 1024  # the seed's limit for an HTML template, in bytes

# ``{z dnia}`` but not ``{{ x }}``, ``{% ... %}``, ``{# ... #}`` or CSS such as ``{color: red}``.
_SEED_MACRO = re.compile(r"(?<!\{)\{(?![{%#])[ \t]*([^\W\d][\w \t]*?)[ \t]*\}(?!\})")
_HTML_START = re.compile(r"^\s*(<!doctype[^>]*>\s*)?<html[\s>]", re.IGNORECASE)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "cid", "tel"})


@dataclass(frozen=True)
class TemplateSource:
    """A template as a user writes it: subject, text body and optional HTML body."""

    subject: str
    text: str = ""
    html: str = ""
    name: str = ""
    language: str = "pl"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One merged message body: subject, plain text and (optionally) HTML."""

    subject: str
    text: str
    html: str | None


def _translate(source: str, originals: dict[str, str]) -> str:
    """Turn seed macros ``{z dnia}`` into Jinja2 ``{{ z_dnia }}``, remembering what was written."""

    def repl(match: re.Match[str]) -> str:
        written = " ".join(match.group(1).split())
        ident = written.replace(" ", "_")
        originals.setdefault(ident, "{" + written + "}")
        return "{{ " + ident + " }}"

    return _SEED_MACRO.sub(repl, source)


class _UrlCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    @classmethod
    def collect(cls, html: str) -> list[str]:
        collector = cls()
        collector.feed(html)
        collector.close()
        return collector.urls

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src", "action", "formaction", "background"} and value:
                self.urls.append(value.strip())


def html_problems(html: str) -> list[str]:
    """Links or sources in rendered HTML that are not http(s), mailto, cid, tel or relative."""
    bad = []
    for url in _UrlCollector.collect(html):
        # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
        scheme = _SCHEME.match(re.sub(r"[\s\x00-\x1f]", "", url).lower())
        if scheme and scheme.group(1) not in _SAFE_SCHEMES:
            bad.append(url)
    return bad


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with ``f.numer`` on a loop item read as the item's value.

    An Item is a plain dict of merged values, so this is the lookup ``f["numer"]`` already
    allows; it skips the sandbox's attribute checks, which cost more than the rest of a row.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is Item:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def _environment(locale: str, html: bool) -> ImmutableSandboxedEnvironment:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: format_value(value, locale),
    )
    env.filters["money"] = lambda v: format_money(v, locale)
    env.filters["date"] = lambda v: format_date(v, locale)
    env.filters["number"] = lambda v: format_number(v, locale)
    return env


def _unknown_message(name: str, originals: dict[str, str], where: str, known: list[str]) -> str:
    written = originals.get(name, "{{ " + name + " }}")
    seed = next((m for m in SEED_MACROS if name in (m.ident, m.alias)), None)
    if seed is not None:
        return _(
            "The {where} uses {written}, but this job maps no column to it: add "
            '{field} = "<column header>" under [data.columns].'
        ).format(where=where, written=written, field=seed.ident)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = _(" Did you mean {{{close}}}?").format(close=close[0].replace("_", " ")) if close else ""
    return _("Unknown macro {written} in the {where}.{hint} Known macros: {known}.").format(
        written=written,
        where=where,
        hint=hint,
        known=", ".join("{" + k.replace("_", " ") + "}" for k in known),
    )


class MessageTemplate:
    """A compiled template; build it with :func:`compile_template`."""

    def __init__(self, source: TemplateSource, known: Collection[str]) -> None:
        self.source = source
        self.locale = locale_for(source.language)
        self.originals: dict[str, str] = {}
        self.names: set[str] = set()  # the macros the template reads
        known_list = sorted(set(known))
        self.subject = self._compile(source.subject, N_("subject"), False, known_list)
        self.text = (
            self._compile(source.text, N_("text body"), False, known_list) if source.text else None
        )
        self.html = None
        self._dynamic_urls = False
        if source.html.strip():
            _check_html_source(source.html)
            self.html = self._compile(source.html, N_("HTML body"), True, known_list)
            # Links written in the template are checked once; only those a value fills in are
            # checked again for every row.
            urls = _UrlCollector.collect(_translate(source.html, {}))
            self._dynamic_urls = any("{{" in u or "{%" in u for u in urls)
            static_bad = html_problems(source.html) if not self._dynamic_urls else []
            if static_bad:
                raise TemplateError(
                    _(
                        "The HTML template links to {url}; only http(s), mailto "
                        "and cid links are allowed"
                    ).format(url=static_bad[0])
                )
        lone = _SEED_MACRO.fullmatch(source.subject.strip())
        self.lone_macro = "_".join(lone.group(1).split()) if lone and not source.html else None
        if self.text is None and self.html is None:
            raise TemplateError(
                _("The template has no body: write a text body, an HTML body or both.")
            )

    def _compile(self, body: str, where: str, html: bool, known: list[str]) -> Template:
        env = _environment(self.locale, html)
        translated = _translate(body, self.originals)
        try:
            ast = env.parse(translated)
        except TemplateSyntaxError as err:
            raise TemplateError(
                _("The {where} has a syntax error on line {line}: {reason}").format(
                    where=_(where), line=err.lineno, reason=err.message
                )
            ) from err
        used = meta.find_undeclared_variables(ast)
        self.names.update(used)
        for name in sorted(used):
            if name not in known:
                raise TemplateError(
                    _unknown_message(name, self.originals, _(where), known),
                    macro=self.originals.get(name, name),
                    known=tuple(known),
                )
        return env.from_string(translated)

    def render_subject(self, context: Mapping[str, Any], *, row: str | None = None) -> str:
        """The subject line alone, filled in (a file name pattern needs no body)."""
        return self._subject(self._used(context), row)

    def _used(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """Only what the template reads: Jinja2 copies the whole context for each render."""
        return {k: context[k] for k in self.names if k in context}

    def _subject(self, context: dict[str, Any], row: str | None) -> str:
        try:
            subject = self.subject.render(context).strip()
        except _FILL_ERRORS as err:
            raise _not_filled(row, err) from err
        problem = single_line_problem(subject)
        if problem:
            raise TemplateError(
                _("Row {row}: the subject is refused: {problem}").format(row=row, problem=problem),
                row=row,
            )
        return subject

    def render(self, context: Mapping[str, Any], *, row: str | None = None) -> Rendered:
        """Merge one row's ``context``; a TemplateError names the row and what failed."""
        context = self._used(context)
        subject = self._subject(context, row)
        try:
            html = self.html.render(context) if self.html is not None else None
            text = self.text.render(context) if self.text is not None else _html_to_text(html or "")
        except _FILL_ERRORS as err:
            raise _not_filled(row, err) from err
        if html is not None and self._dynamic_urls:
            bad = html_problems(html)
            if bad:
                raise TemplateError(
                    _(
                        "Row {row}: the HTML links to {url}; only http(s), mailto and "
                        "cid links are allowed"
                    ).format(row=row, url=bad[0]),
                    row=row,
                )
        return Rendered(subject, text, html)


_FILL_ERRORS = (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError)


def _not_filled(row: str | None, err: Exception) -> TemplateError:
    return TemplateError(
        _("Row {row}: the template cannot be filled in: {reason}").format(row=row, reason=err),
        row=row,
    )


def _check_html_source(html: str) -> None:
    size = len(html.encode("utf-8"))
    if size > HTML_LIMIT:
        raise TemplateError(
            _(
                "The HTML template has {size} bytes; the limit is 32 KB ({limit} "
                "bytes). Move images to links and shorten the styles."
            ).format(size=size, limit=HTML_LIMIT)
        )
    if not _HTML_START.match(html):
        raise TemplateError(_("The HTML template must start with <html> and end with </html>."))


def _html_to_text(html: str) -> str:
    """The plain-text alternative of an HTML body (tables kept readable)."""
    return str(get_text(html)).strip() + "\n"


def compile_template(source: TemplateSource, known: Collection[str]) -> MessageTemplate:
    """Compile ``source``; an unknown macro is a TemplateError listing the ``known`` ones."""
    return MessageTemplate(source, known)
