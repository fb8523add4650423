"""The workbench app's widgets (the only part of mailkit importing ipywidgets): thin skins over
the core, one shared state, one tab per task."""

from .accounts_tab import AccountsTab
from .app import App, open_store
from .compose_tab import ComposeTab
from .data_tab import DataTab
from .kit import Labels, Notice, Panel, css, guarded, start
from .log_tab import LogTab
from .preview_tab import PreviewTab
from .send_tab import SendTab
from .state import AppState
from .templates_tab import TemplatesTab
from .work import Activity

__all__ = [
    "AccountsTab",
    "Activity",
    "App",
    "AppState",
    "ComposeTab",
    "DataTab",
    "Labels",
    "LogTab",
    "Notice",
    "Panel",
    "PreviewTab",
    "SendTab",
    "TemplatesTab",
    "css",
    "guarded",
    "open_store",
    "start",
]
