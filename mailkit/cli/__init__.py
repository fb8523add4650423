"""The ``mailkit`` command: the same jobs as the app, headless (cron, CI, support)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import MailkitError
from ..i18n import _, set_language
from . import (
    account_commands,
    config_commands,
    evidence_commands,
    job_commands,
    merge_commands,
    send_commands,
)
from .argparse_text import argparse_in_our_language
from .common import EXIT_OK, EXIT_USAGE, fail

__all__ = ["main"]

_MODULES = (
    account_commands,
    config_commands,
    evidence_commands,
    job_commands,
    merge_commands,
    send_commands,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="mailkit",
        description=_("Merged e-mail in batches: check, preview, export and send."),
    )
    parser.add_argument("--lang", choices=("pl", "en"), help=_("language of messages"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code says how it ended (see ``mailkit --help``)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if "--lang" in args[:-1]:
        set_language(args[args.index("--lang") + 1])
    with argparse_in_our_language():  # "usage:", headings and errors in Polish too
        ns = build_parser().parse_args(args)
    try:
        return int(ns.handler(ns))
    except MailkitError as err:
        return fail(err.message)
    except KeyboardInterrupt:
        return fail(_("interrupted"), EXIT_USAGE)
    except BrokenPipeError:
        # The reader went away (``mailkit keys JOB | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
