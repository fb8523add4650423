"""The widget kit: labels that follow the language, guarded handlers, the base of every tab."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import ipywidgets as w

from ..errors import MailkitError
from ..i18n import _, language
from .state import AppState

__all__ = [
    "Labels",
    "Notice",
    "Panel",
    "Text",
    "button",
    "choose",
    "css",
    "guarded",
    "start",
    "unexpected",
]

log = logging.getLogger("mailkit.ui")

T = TypeVar("T")
W = TypeVar("W", bound=w.DOMWidget)
F = TypeVar("F", bound=Callable[..., Any])


def css(widget: W, *classes: str) -> W:
    """Give ``widget`` stable CSS classes (``mk-...``) that tests and styles find it by."""
    for name in classes:
        widget.add_class(name)
    return widget


def button(*classes: str, primary: bool = False) -> w.Button:
    """A button as wide as its label, with stable CSS classes."""
    style = "primary" if primary else ""
    made = w.Button(button_style=style, layout=w.Layout(width="auto", min_width="7em"))
    return css(made, *classes)


class Labels:
    """Widget texts kept as English msgids and written again in the language of the moment."""

    def __init__(self) -> None:
        self._texts: list[tuple[Any, str, str, str]] = []
        self._options: list[tuple[Any, Sequence[tuple[str, Any]]]] = []

    def text(self, widget: W, msgid: str, attr: str = "description", wrap: str = "") -> W:
        """Set ``widget.<attr>`` to ``_(msgid)`` now and after every language switch;
        ``wrap`` (e.g. ``'<h4>{}</h4>'``) puts the escaped text into HTML."""
        self._texts.append((widget, attr, msgid, wrap))
        self._set_text(widget, attr, msgid, wrap)
        return widget

    def heading(self, msgid: str) -> w.HTML:
        """A section heading in the current language."""
        return css(self.text(w.HTML(), msgid, "value", "<h4>{}</h4>"), "mk-heading")

    @staticmethod
    def _set_text(widget: Any, attr: str, msgid: str, wrap: str) -> None:
        text = _(msgid)
        setattr(widget, attr, wrap.format(html.escape(text)) if wrap else text)

    def options(self, widget: W, choices: Sequence[tuple[str, Any]]) -> W:
        """Set a selection widget's options to (msgid, value) pairs, translated, value kept."""
        self._options.append((widget, tuple(choices)))
        self._set_options(widget, choices)
        return widget

    @staticmethod
    def _set_options(widget: Any, choices: Sequence[tuple[str, Any]]) -> None:
        choose(widget, [(_(label), v) for label, v in choices], widget.value)

    def apply(self) -> None:
        """Write every text again in the current language."""
        for widget, attr, msgid, wrap in self._texts:
            self._set_text(widget, attr, msgid, wrap)
        for widget, choices in self._options:
            self._set_options(widget, choices)


Text = str | Callable[[], str]  # a text, or what writes it in the language of the moment


class Notice(w.HTML):
    """One line telling the user what happened: done, a warning, or an error and what to do."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        css(self, "mk-notice")
        self.kind = ""
        self._text: Text = ""

    def show(self, text: Text, kind: str = "info") -> None:
        """Show ``text`` (plain text, escaped) as 'info', 'ok', 'warning' or 'error'.

        Give a function that writes the text (``lambda: _("...").format(...)``) and the notice
        is written again when the language changes (``relabel``); a plain text stays as it is.
        """
        if self.kind:
            self.remove_class(f"mk-notice-{self.kind}")
        self.kind = kind
        self._text = text
        self.add_class(f"mk-notice-{kind}")
        self._draw()

    def relabel(self) -> None:
        """Write the notice again in the current language, if it was given as a function."""
        if self.kind and callable(self._text):
            self._draw()

    def _draw(self) -> None:
        text = self._text() if callable(self._text) else self._text
        self.value = f'<div class="mk-{self.kind}">{html.escape(text)}</div>'

    def error(self, text: str) -> None:
        """Show an error message."""
        self.show(text, "error")

    def clear(self) -> None:
        """Show nothing."""
        if self.kind:
            self.remove_class(f"mk-notice-{self.kind}")
        self.kind = ""
        self._text = ""
        self.value = ""


def choose(widget: Any, options: Sequence[Any], value: Any = None) -> None:
    """Give a selection widget new ``options``; keep ``value`` when it is among them, else
    choose the first option.

    (Holding notifications around both fails ipywidgets' cross-validation; use
    ``Panel.quietly`` to keep handlers from seeing the steps in between.)
    """
    widget.options = options
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    wanted = value if value in values else (values[0] if values else None)
    if widget.value != wanted:
        widget.value = wanted


def guarded(state: AppState, notice: Notice) -> Callable[[F], F]:
    """Run a handler in the app's language; show a MailkitError (or any failure) in ``notice``.

    ipywidgets only logs what a callback raises, so nothing may escape: the user sees what went
    wrong and what to do, never a traceback; unexpected failures go to the log in full.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with language(state.language):
                try:
                    return fn(*args, **kwargs)
                except MailkitError as err:
                    notice.error(err.message)
                except Exception as err:
                    log.exception("unexpected error in %s", getattr(fn, "__qualname__", fn))
                    notice.error(unexpected(err))
            return None

        return run  # type: ignore[return-value]

    return decorate


def unexpected(err: BaseException) -> str:
    """The message for a failure nobody foresaw: what kind, and where the details are."""
    return _(
        "Something went wrong ({kind}). The details are in the server log; please report them."
    ).format(kind=type(err).__name__)


def start(
    notice: Notice, work: Awaitable[T], done: Callable[[T], None]
) -> asyncio.Future[Any] | None:
    """Run ``work`` as a task on the kernel's running loop; ``done`` gets its result, failures
    go to ``notice``. Keep the returned task: one nobody references may be collected before it
    ends. Without a running loop (plain Python, tests) it runs to the end at once (None)."""

    async def run() -> None:
        try:
            done(await work)
        except MailkitError as err:
            notice.error(err.message)
        except Exception as err:  # a task's exception would otherwise vanish
            log.exception("unexpected error in a background task")
            notice.error(unexpected(err))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run())
        return None
    return asyncio.ensure_future(run())


class Panel(w.VBox):
    """The base of a tab: its title, its translated labels, its notice and guarded handlers.

    A subclass builds its widgets in ``__init__`` (after calling this one), registers texts
    with ``self.labels``, wires events with ``self.on_click`` / ``self.on_change`` /
    ``self.watch`` and redraws what depends on data or language in ``refresh``.
    """

    children: Sequence[Any]  # ipywidgets' trait; annotated for mypy only
    title: ClassVar[str] = ""  # an English msgid
    css_name: ClassVar[str] = ""  # e.g. "mk-data": the tab's own CSS class

    def __init__(self, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state
        self.labels = Labels()
        self.notice = Notice()
        self.guard = guarded(state, self.notice)
        self._hidden: tuple[Any, ...] = ()
        self.active = True  # on screen; an App keeps the tabs not shown inactive
        self._pending: dict[Callable[[], None], None] = {}  # updates owed to an inactive tab
        self.activities: list[Any] = []  # the tab's Activity bars (App.ready waits for them)
        self._quiet = 0
        css(self, "mk-panel", *((self.css_name,) if self.css_name else ()))
        state.observe(self._language_changed, names="language")

    def on_click(self, button: w.Button, fn: Callable[[], None]) -> None:
        """Run ``fn`` when ``button`` is clicked, guarded; the notice then speaks of it alone."""

        def clicked() -> None:
            self.notice.clear()
            fn()

        guarded_fn = self.guard(clicked)
        button.on_click(lambda _button: guarded_fn())

    def on_change(self, widget: Any, fn: Callable[[Any], None], names: str = "value") -> None:
        """Run ``fn(new_value)`` when the widget's ``names`` trait changes, guarded."""
        guarded_fn = self.guard(fn)
        widget.observe(lambda c: None if self._quiet else guarded_fn(c["new"]), names=names)

    def watch(self, names: str | list[str], fn: Callable[[], None]) -> None:
        """Run ``fn`` when the shared state's ``names`` change, guarded; while the tab is not
        on screen, once when it comes back (a row switch only pays for the tab being shown)."""
        guarded_fn = self.guard(fn)
        self.state.observe(lambda _change: self._when_active(guarded_fn), names=names)

    def _when_active(self, fn: Callable[[], None]) -> None:
        if self.active:
            fn()
        else:
            self._pending[fn] = None

    @contextlib.contextmanager
    def quietly(self) -> Iterator[None]:
        """Change widgets without their ``on_change`` handlers running."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def _language_changed(self, _change: Any) -> None:
        with language(self.state.language), self.quietly():
            self.labels.apply()
            self.notice.relabel()
        self._when_active(self._refresh)

    def _refresh(self) -> None:
        self.guard(self.refresh)()

    def defer(self) -> None:
        """Leave the screen before ever being shown: the contents stay out of the page (a
        hidden tab costs the browser nothing at first paint) and updates wait."""
        self.active = False
        if self.children:
            self._hidden = tuple(self.children)
            self.children = []

    def activate(self, active: bool = True) -> None:
        """Come on screen (contents in the page, owed updates done, in order) or leave it."""
        self.active = active
        if not active:
            return
        if self._hidden:
            self.children, self._hidden = list(self._hidden), ()
        pending, self._pending = list(self._pending), {}
        for fn in pending:
            fn()

    def refresh(self) -> None:
        """Redraw what depends on the data or the language (override)."""

    def reread(self) -> None:
        """List again what the tab offers from the settings store, keeping the choices made
        (override): a job, account or template saved since the tab was built then shows."""
