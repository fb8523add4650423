"""Widget tests run headless: no kernel, no browser; a swallowed callback error fails the test."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailkit.ui import App, open_store

ROOT = Path(__file__).resolve().parents[2]


class CallbackErrors(logging.Handler):
    """Collects what ipywidgets swallows ("Exception in callback") and what handlers log."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        swallowed = record.name == "traitlets" and record.getMessage().startswith("Exception in")
        unexpected = record.name.startswith("mailkit.ui") and record.levelno >= logging.ERROR
        if swallowed or unexpected:
            self.records.append(record)

    def problems(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records]


@pytest.fixture(autouse=True)
def callback_errors() -> Iterator[CallbackErrors]:
    """Fail the test when a widget callback raised (ipywidgets only logs it) or a handler hit
    an unexpected error; a test that provokes one on purpose clears ``records``."""
    handler = CallbackErrors()
    loggers = [logging.getLogger("traitlets"), logging.getLogger("mailkit.ui")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
    if handler.records:
        pytest.fail("a widget callback failed: " + "; ".join(handler.problems()))


def _uploaded(*files: tuple[str, bytes]) -> tuple[dict[str, object], ...]:
    now = dt.datetime.now(dt.UTC)
    return tuple(
        {"name": n, "type": "", "size": len(d), "content": memoryview(d), "last_modified": now}
        for n, d in files
    )


@pytest.fixture
def uploaded():  # type: ignore[no-untyped-def]
    """What a browser's FileUpload sends to the kernel for files given as (name, bytes)."""
    return _uploaded


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A copy of the sample data (jobs write their drafts next to it, not into the repo)."""
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy / "jobs"


@pytest.fixture
def app(samples: Path) -> App:
    """The whole app (English, as the hermetic environment says) with the invoices loaded."""
    made = App.create(samples, store=open_store())
    made.load("overdue.toml")
    assert made.state.merge is not None, made.notice.value
    return made
