"""Exit codes and output helpers shared by the ``mailkit`` sub-commands."""

from __future__ import annotations

import sys

from ..i18n import _

EXIT_OK = 0  # done; nothing blocks
EXIT_FINDINGS = 1  # preflight found errors; nothing was sent
EXIT_USAGE = 2  # the command, job file or settings are wrong
EXIT_FAILED = 3  # sent, but some messages failed or reached only some recipients
EXIT_UNKNOWN = 4  # some outcomes are unknown (connection lost after DATA): check, then resend
EXIT_STOPPED = 5  # stopped before the end (cancelled, login refused, server down, limit): resume

__all__ = [
    "EXIT_FAILED",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_STOPPED",
    "EXIT_UNKNOWN",
    "EXIT_USAGE",
    "fail",
    "out",
]


def out(text: str = "") -> None:
    """Write a line to standard output."""
    sys.stdout.write(text + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Write an error line to standard error and return ``code``."""
    sys.stderr.write(_("mailkit: {message}").format(message=message) + "\n")
    return code
