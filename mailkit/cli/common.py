"""Exit codes and output helpers shared by the ``mailkit`` sub-commands."""

from __future__ import annotations

import sys

from ..i18n import _

EXIT_OK = 0  # done; nothing blocks
EXIT_FINDINGS = 1  # preflight found errors; nothing was sent
EXIT_USAGE = 2  # the command, job file or settings are wrong

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "fail", "out"]


def out(text: str = "") -> None:
    """Write a line to standard output."""
    sys.stdout.write(text + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Write an error line to standard error and return ``code``."""
    sys.stderr.write(_("mailkit: {message}").format(message=message) + "\n")
    return code
