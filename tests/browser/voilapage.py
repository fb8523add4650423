"""Opening the Voila app in a browser page, with the one reload a known Voila race needs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout


def open_app_page(page: Any, url: str) -> bool:
    """Go to the app and wait for its tabs; reload once if Voila served a page without them.

    On a busy machine Voila's pre-run of the notebook in a pooled kernel can lose the cell's
    output (nbclient logs "Timeout waiting for IOPub output": the kernel's messages never came),
    and that page stays empty whatever the app does; a reload takes the next pooled kernel, as a
    user would. A page that shows the app but never its verdict still fails (conftest._checked).
    True when it reloaded: what the abandoned page logged is then not the app's doing.
    """
    tabs = ".mk-app .mk-tabs"
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_selector(tabs, state="visible", timeout=40_000)
    except PlaywrightTimeout:
        page.reload(wait_until="commit")
        page.wait_for_selector(tabs, state="visible", timeout=40_000)
        return True
    return False
