"""The `mailkit` command in Polish: argparse's own help and errors, and stored values by name."""

from __future__ import annotations

import argparse
import ast
import gettext
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailkit.cli import main
from mailkit.cli.argparse_text import ARGPARSE_MESSAGES
from mailkit.cli.common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
)


@pytest.fixture(autouse=True)
def store(anna_store: Path) -> Path:
    return anna_store


def test_help_is_polish_when_the_language_is_polish() -> None:
    env = {**os.environ, "MAILKIT_LANG": "pl"}
    done = subprocess.run(
        [sys.executable, "-m", "mailkit", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert done.stdout.startswith("użycie: mailkit ")
    assert "\nargumenty pozycyjne:\n" in done.stdout
    assert "\nopcje:\n" in done.stdout
    assert "pokaż tę pomoc i zakończ" in done.stdout
    assert "usage:" not in done.stdout and "positional arguments" not in done.stdout


def test_a_missing_argument_is_reported_in_polish(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--lang", "pl", "account", "add"])
    assert stop.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("użycie: mailkit account add ")
    assert "mailkit account add: błąd: brak wymaganych argumentów: name" in err


def test_a_wrong_choice_is_reported_in_polish(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "pl", "account", "list", "--scope", "everybody"])
    err = capsys.readouterr().err
    assert "błąd: argument --scope: nieprawidłowy wybór: 'everybody'" in err
    assert "(do wyboru: 'global', 'personal')" in err  # the values typed stay as they are


def test_english_is_unchanged_and_argparse_is_put_back(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["account", "add"])
    err = capsys.readouterr().err
    assert err.startswith("usage: mailkit account add ")
    assert "mailkit account add: error: the following arguments are required: name" in err
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "\npositional arguments:\n" in out and "show this help message and exit" in out
    # Outside the command argparse translates as it always did (other users in the process).
    assert vars(argparse)["_"] is gettext.gettext
    assert vars(argparse)["ngettext"] is gettext.ngettext


def test_the_listed_messages_are_argparses_own() -> None:
    """The msgids must be argparse's source strings, or they would never be looked up."""
    used: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(argparse))):
        name = (
            node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""
        )
        if name in ("_", "ngettext"):
            used |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    core = {
        "usage: ",
        "positional arguments",
        "options",
        "show this help message and exit",
        "%(prog)s: error: %(message)s\n",
        "the following arguments are required: %s",
        "unrecognized arguments: %s",
        "expected one argument",
    }
    assert core <= set(ARGPARSE_MESSAGES)
    assert core <= used
    if sys.version_info[:2] == (3, 11):  # the version the list was taken from
        assert set(ARGPARSE_MESSAGES) <= used


def test_scopes_are_shown_by_name_and_stored_as_values(capsys: pytest.CaptureFixture[str]) -> None:
    account = ["--address", "kadry@example.com", "--smtp-host", "localhost", "--no-password"]
    assert main(["--lang", "pl", "account", "add", "Kadry", *account]) == EXIT_OK
    assert "zapisano konto pocztowe Kadry (ustawienia osobiste)" in capsys.readouterr().out
    assert main(["--lang", "pl", "account", "list"]) == EXIT_OK
    assert "osobiste" in capsys.readouterr().out
    assert main(["--lang", "pl", "account", "list", "--scope", "personal"]) == EXIT_OK
    assert "Kadry" in capsys.readouterr().out
    assert main(["--lang", "en", "account", "list"]) == EXIT_OK
    assert "\tpersonal" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("exit codes:", "all sent", "stopped")), ("pl", ("kody wyjścia:", "wznowić"))],
)
def test_send_help_lists_its_exit_codes(
    lang: str, words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--lang", lang, "send", "--help"])
    assert stop.value.code == EXIT_OK
    epilog = " ".join(capsys.readouterr().out.split("\n\n")[-1].split())
    assert all(word in epilog for word in words)
    codes = (EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED, EXIT_UNKNOWN, EXIT_STOPPED)
    shown = [int(n) for n in re.findall(r"(?:^|; )(\d) ", epilog.split(": ", 1)[1])]
    assert shown == list(codes)
