"""Builders for the app's sending tests: the app with an account at a real sink or server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from smtp_server import FaultServer

from mailkit.accountform import ensure_sink_account
from mailkit.accounts import Account
from mailkit.config import Security, SmtpSettings
from mailkit.saved_accounts import save_account
from mailkit.store import Scope, SettingsStore
from mailkit.ui import App, open_store

SENDER = "biuro@hurtownia-baltyk.example.com"


def sink_account(port: int) -> None:
    """The account ``./dev app`` makes, pointing at a sink on ``port``."""
    with SettingsStore() as store:
        ensure_sink_account(store, port, SENDER, "Hurtownia Bałtyk (test)")


def server_account(server: FaultServer, name: str = "Firma") -> None:
    """A company account at a real (fault-injecting) SMTP server: sending there is real."""
    with SettingsStore() as store:
        smtp = SmtpSettings("127.0.0.1", server.port, Security.NONE, timeout_ms=3000)
        save_account(store, Account(name, SENDER, smtp, owner=store.user), Scope.GLOBAL)


async def open_app(samples: Path, job: str = "overdue.toml") -> App:
    """The app (created on the running loop, as in a kernel) with ``job`` loaded and checked."""
    app = App.create(samples, store=open_store())
    app.load(job)
    await app.ready()
    assert app.state.merge is not None, app.notice.value
    assert app.state.report is not None
    return app


async def until(check: Callable[[], object], timeout: float = 30.0) -> None:
    """Wait, letting the loop run, until ``check()`` is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.02)
