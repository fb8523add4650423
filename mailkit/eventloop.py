"""The event loop the command line sends on: uvloop where it is installed, else asyncio's own.

uvloop (libuv) runs the same asyncio code with less CPU per socket read and write, which is most
of what sending costs on a fast link. The app keeps the kernel's loop; nothing else changes.
``MAILKIT_EVENT_LOOP=asyncio`` chooses the standard loop (to rule uvloop out when diagnosing).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # Windows, or not installed: the standard loop
    uvloop = None  # type: ignore[assignment]

__all__ = ["loop_name", "run"]

T = TypeVar("T")


def _factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    if os.environ.get("MAILKIT_EVENT_LOOP", "").lower() == "asyncio":
        return None
    return None if uvloop is None else uvloop.new_event_loop


def loop_name() -> str:
    """The loop ``run`` will use: "uvloop" or "asyncio"."""
    return "asyncio" if _factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the fastest loop available."""
    with asyncio.Runner(loop_factory=_factory()) as runner:
        return runner.run(main)
