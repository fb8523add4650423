"""What other windows save while the app is open: a tab lists it again when opened, and the app
lists everything again when Voila hands its pre-started kernel to a page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailkit import catalog
from mailkit.accountform import ensure_sink_account
from mailkit.catalog import CatalogTemplate
from mailkit.saved_accounts import remove_account
from mailkit.saved_jobs import save_job_file
from mailkit.store import Scope, SettingsStore
from mailkit.ui import AccountsTab, App, ComposeTab, DataTab, TemplatesTab
from mailkit.ui.page_request import wait_for_page


def _values(options: object) -> list[object]:
    return [o[1] if isinstance(o, tuple) else o for o in options]  # type: ignore[attr-defined]


def _labels(options: object) -> list[str]:
    return [str(o[0]) for o in options]  # type: ignore[attr-defined]


def _store(app: App) -> SettingsStore:
    store = app.panel(DataTab).store
    assert store is not None
    return store


def _template(name: str, kind: str) -> CatalogTemplate:
    return CatalogTemplate(name, kind, "Monit {{ name }}", text="Dzień dobry {{ name }}")


def test_opening_a_tab_lists_what_was_saved_since(app: App, samples: Path) -> None:
    store = _store(app)
    accounts, templates = app.panel(AccountsTab), app.panel(TemplatesTab)
    # The app was made (as Voila's pre-started kernel makes it); then, in another window:
    save_job_file(store, samples / "payslips.toml", Scope.PERSONAL, name="Paski listopad")
    ensure_sink_account(store, 2525, "biuro@hurtownia-baltyk.example.com")
    catalog.save_template(store, _template("Monit grudzień", "przypomnienie"), Scope.PERSONAL)
    assert "Local test sink" not in _values(accounts.account.options)

    app.select(AccountsTab)
    assert "Local test sink" in _values(accounts.account.options)
    app.select(TemplatesTab)  # it shows the reminders, the type of the loaded job's template
    assert templates.kind.value == "przypomnienie"
    assert "Monit grudzień (pl, personal)" in _labels(templates.stored.options)
    app.select(ComposeTab)
    assert "Monit grudzień (pl)" in _labels(app.panel(ComposeTab).template.options)
    app.select(DataTab)
    assert "saved:personal:Paski listopad" in _values(app.panel(DataTab).sample.options)
    assert app.panel(DataTab).sample.value.endswith("overdue.toml")  # the choice is kept
    assert app.state.merge is not None  # and the loaded job stays loaded


def test_rereading_keeps_what_is_typed_and_what_is_chosen(app: App) -> None:
    store, accounts, compose = _store(app), app.panel(AccountsTab), app.panel(ComposeTab)
    catalog.save_template(store, _template("Monit B", "przypomnienie"), Scope.PERSONAL)
    app.select(ComposeTab)
    chosen = _labels(compose.template.options).index("Monit B (pl)")
    compose.template.value = dict(compose.template.options)["Monit B (pl)"]
    app.select(AccountsTab)
    accounts.form.sender_name.value = "typed, not saved yet"

    catalog.save_template(store, _template("Monit A", "przypomnienie"), Scope.PERSONAL)
    ensure_sink_account(store, 2525, "biuro@hurtownia-baltyk.example.com")
    app.select(ComposeTab)
    app.select(AccountsTab)

    assert accounts.form.sender_name.value == "typed, not saved yet"
    assert "Local test sink" in _values(accounts.account.options)
    labels = _labels(compose.template.options)
    assert labels.index("Monit A (pl)") < labels.index("Monit B (pl)") == chosen + 1
    shown = {v: k for k, v in compose.template.options}[compose.template.value]
    assert shown == "Monit B (pl)"  # the same template, now one place further down


def test_an_account_deleted_meanwhile_leaves_the_form(app: App) -> None:
    store, accounts = _store(app), app.panel(AccountsTab)
    saved = ensure_sink_account(store, 2525, "biuro@hurtownia-baltyk.example.com")
    app.select(AccountsTab)
    accounts.account.value = "Local test sink"
    assert accounts.form.name.value == "Local test sink"
    app.select(DataTab)
    remove_account(store, "Local test sink", saved.scope)
    app.select(AccountsTab)
    assert "Local test sink" not in _values(accounts.account.options)
    assert accounts.form.name.value != "Local test sink"


def test_outside_voila_the_page_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    started = time.monotonic()
    assert wait_for_page() is False
    assert time.monotonic() - started < 0.5
    assert "voila" not in sys.modules or "voila.utils" not in sys.modules


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("where", ["refused", "no-such-host"])
def test_a_voila_that_cannot_be_reached_ends_the_wait_quietly(where: str) -> None:
    """In a kernel like Voila's pre-started one (its environment), run in a subprocess: the
    wait ends, and nothing (no warning, no traceback) is printed where the page would show it."""
    env = {"VOILA_PREHEAT": "True", "VOILA_KERNEL_ID": "k", "VOILA_APP_PORT": str(_closed_port())}
    if where == "no-such-host":
        env["VOILA_APP_IP"] = "no-such-host.invalid"
    code = "from mailkit.ui.page_request import wait_for_page; print(wait_for_page())"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**_base_env(), **env}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert done.stderr == ""


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VOILA_")}
