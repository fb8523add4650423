"""Voila's pre-started kernels: wait until a page is asked for (the one module importing voila).

With ``preheat_kernel`` Voila runs the notebook before anyone opens the page, maybe hours
before. What the app listed from the settings store then may be out of date when the page is
served; the app lists it again once the page is asked for.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from typing import Any

__all__ = ["wait_for_page"]

log = logging.getLogger("mailkit.ui")


def wait_for_page() -> bool:
    """Block until this pre-started kernel's page is asked for; True then. Anywhere else
    (Jupyter, nbval, a kernel Voila started for a request) return False at once.

    When Voila cannot be reached, the wait ends at once and the page keeps the lists of the
    pre-run: a reason goes to the log, never a traceback onto the page.
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return False

    def quiet(args: Any) -> None:  # voila waits on a thread of its own ("Thread-N (inner)")
        if args.thread is not None and args.thread.name.endswith("(inner)"):
            log.info("could not wait for the page to be asked for: %s", args.exc_value)
        else:
            previous(args)

    previous, threading.excepthook = threading.excepthook, quiet
    try:
        from voila.utils import wait_for_request  # noqa: PLC0415 - takes 2 s to import

        with warnings.catch_warnings():  # "Failed to connect" would print onto the page
            warnings.simplefilter("ignore")
            wait_for_request()
    except Exception as err:  # the page still works, with the lists of the pre-run
        log.info("could not wait for the page to be asked for: %s", err)
        return False
    finally:
        threading.excepthook = previous
    return True
