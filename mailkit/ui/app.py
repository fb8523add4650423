"""The workbench app: a header (language, privacy mode, preflight) over one tab per task."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, TypeVar

import ipywidgets as w

from ..errors import MailkitError
from ..i18n import N_, _, language
from ..store import SettingsStore
from .accounts_tab import AccountsTab
from .checks import PreflightBar
from .compose_tab import ComposeTab
from .data_tab import DataTab
from .kit import Labels, Notice, Panel, css, guarded
from .log_tab import LogTab
from .page_request import wait_for_page
from .preview_tab import PreviewTab
from .send_tab import SendTab
from .state import AppState
from .style import STYLE
from .templates_tab import TemplatesTab

__all__ = ["App"]

log = logging.getLogger("mailkit.ui")
P = TypeVar("P", bound=Panel)


class App(w.VBox):
    """The whole app; ``state`` is what the tabs share, ``add`` puts another tab in.

    Build it with :meth:`create` (the notebook does) or give it panels yourself.
    """

    def __init__(self, state: AppState, panels: list[Panel] | None = None) -> None:
        self.state = state
        self.labels = Labels()
        self.notice = Notice()
        self.language = css(
            w.ToggleButtons(
                options=[("Polski", "pl"), ("English", "en")],
                value=state.language,
                style={"button_width": "6em"},
            ),
            "mk-language",
        )
        self.privacy = css(
            w.Checkbox(value=state.privacy, indent=False, layout=w.Layout(width="auto")),
            "mk-privacy",
        )
        self.labels.text(self.privacy, N_("Privacy mode (hide e-mails, PESEL, amounts)"))
        self.heading = css(w.HTML(), "mk-title")
        self.labels.text(self.heading, N_("mailkit — merged e-mail"), "value", "<h2>{}</h2>")
        self.checks = PreflightBar(state)
        self.tabs = css(w.Tab(), "mk-tabs")
        self.panels: list[Panel] = []
        header = css(w.HBox([self.heading, self.language, self.privacy]), "mk-header")
        super().__init__([w.HTML(STYLE), header, self.notice, self.checks, self.tabs])
        css(self, "mk-app")
        guard = guarded(state, self.notice)
        w.link((self.language, "value"), (state, "language"))
        w.link((self.privacy, "value"), (state, "privacy"))
        state.observe(lambda _c: guard(self.relabel)(), names="language")
        self.tabs.observe(lambda _c: guard(self._opened)(), names="selected_index")
        for panel in panels or []:
            self.add(panel)

    @classmethod
    def create(
        cls,
        samples: str | Path | None = None,
        *,
        state: AppState | None = None,
        store: SettingsStore | None = None,
    ) -> App:
        """The app with its tabs: Data (``samples`` is the folder of job files offered),
        Templates, Preview, Send, Log, Compose and Accounts; ``store`` holds the catalogue of
        templates and the saved accounts (the Send tab's sender rules read them)."""
        state = state or AppState()
        with language(state.language):
            panels: list[Panel] = [
                DataTab(state, samples, store),
                TemplatesTab(state, store),
                PreviewTab(state),
                SendTab(state, store),
                LogTab(state),
                ComposeTab(state, store),
                AccountsTab(state, store),
            ]
            return cls(state, panels)

    def add(self, panel: P) -> P:
        """Put ``panel`` in as the last tab (its title follows the language); tabs after the
        first join the page when first opened."""
        if self.panels:
            panel.defer()
        self.panels.append(panel)
        self.tabs.children = [*self.tabs.children, panel]
        with language(self.state.language):
            self._titles()
        return panel

    def panel(self, kind: type[P]) -> P:
        """The tab of class ``kind``."""
        for panel in self.panels:
            if isinstance(panel, kind):
                return panel
        raise LookupError(kind.__name__)

    def load(self, name: str) -> None:
        """Load the sample job whose file is ``name`` (e.g. 'overdue.toml') on the Data tab."""
        self.guard(lambda: self.panel(DataTab).load_sample(name))()

    @property
    def guard(self) -> Any:
        """Run a callable like a handler: in the app's language, errors into the notice."""
        return guarded(self.state, self.notice)

    async def ready(self) -> None:
        """Wait until nothing runs in the background (loading, checking)."""
        while True:
            running = [
                a.task
                for a in (*(a for p in self.panels for a in p.activities), self.checks.activity)
                if a.running
            ]
            if not running:
                return
            await asyncio.wait(running)

    def reread(self) -> None:
        """Every tab lists again what the settings store holds (jobs, accounts, templates)."""
        for panel in self.panels:
            panel.guard(panel.reread)()

    def opened(self) -> None:
        """The notebook's last cell: in a kernel Voila started ahead, wait until the page is
        asked for, then :meth:`reread` (what was saved since the kernel started shows)."""
        if wait_for_page():
            self.reread()

    def _opened(self) -> None:
        index = self.tabs.selected_index
        for i, panel in enumerate(self.panels):
            if i == index:
                panel.guard(panel.reread)()
            panel.activate(i == index)

    def select(self, kind: type[Panel]) -> None:
        """Open the tab of class ``kind``."""
        self.tabs.selected_index = self.panels.index(self.panel(kind))

    def relabel(self) -> None:
        """Write the header, its notice and the tab titles in the current language."""
        self.labels.apply()
        self.notice.relabel()
        self._titles()

    def _titles(self) -> None:
        self.tabs.titles = tuple(_(p.title) for p in self.panels)


def open_store() -> SettingsStore | None:
    """The user's settings store (catalogue of templates), or None when it cannot be opened."""
    try:
        return SettingsStore()
    except (MailkitError, OSError) as err:
        log.warning("the settings store cannot be opened: %s", err)
        return None
