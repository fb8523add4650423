"""argparse's own words (usage, section headings, errors) in the language of mailkit's messages.

argparse translates with the standard ``gettext`` module on its "argparse" domain, for which no
Polish catalogue is installed. While the ``mailkit`` command builds its parser and reads the
command line, :func:`argparse_in_our_language` sends those calls to mailkit's catalogue instead,
and puts argparse back as it was afterwards. The msgids below are argparse's source strings
(Python 3.11), listed so that ``./dev i18n`` extracts them; a message that a later Python
words differently is shown in English.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from ..i18n import N_, _

__all__ = ["ARGPARSE_MESSAGES", "argparse_in_our_language"]

ARGPARSE_MESSAGES = (
    # help
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    # errors
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("expected %s argument"),  # ngettext: singular
    N_("expected %s arguments"),  # ngettext: plural
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)


def _gettext(message: Any) -> Any:
    """argparse's ``_``; it also passes None (a sub-parser group without a description)."""
    return _(message) if isinstance(message, str) and message else message


def _ngettext(singular: str, plural: str, n: int) -> str:
    """argparse's ``ngettext``: its plural messages need no more than one and many forms
    (Polish "oczekiwano 2 argumentów", "5 argumentów")."""
    return _(singular if n == 1 else plural)


@contextlib.contextmanager
def argparse_in_our_language() -> Iterator[None]:
    """Inside the block argparse's help and errors come from mailkit's catalogue."""
    names = vars(argparse)  # argparse.py: "from gettext import gettext as _, ngettext"
    saved = names["_"], names["ngettext"]
    names["_"], names["ngettext"] = _gettext, _ngettext
    try:
        yield
    finally:
        names["_"], names["ngettext"] = saved
