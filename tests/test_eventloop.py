"""The command line's event loop: uvloop where installed, asyncio's own on request."""

from __future__ import annotations

import asyncio
import sys

import pytest

from mailkit.eventloop import loop_name, run


async def _module() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not exist on Windows")
def test_sending_runs_on_uvloop_where_it_is_installed() -> None:
    assert loop_name() == "uvloop"
    assert run(_module()) == "uvloop"


def test_the_standard_loop_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILKIT_EVENT_LOOP", "asyncio")
    assert loop_name() == "asyncio"
    assert run(_module()) == "asyncio"
