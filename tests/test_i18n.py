"""Polish and English: every message in the code has a Polish translation with the same fields."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from mailkit import errors
from mailkit.i18n import _, get_language, language, locale_for, set_language

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "mailkit" / "locale" / "pl" / "LC_MESSAGES" / "mailkit.po"


def extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "mailkit.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            str(ROOT / "mailkit"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pot.open("rb") as fh:
        return {str(m.id) for m in read_po(fh) if m.id}


def catalogue() -> dict[str, str]:
    with PO.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh, locale="pl") if m.id}


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_polish_translation(tmp_path: Path) -> None:
    polish = catalogue()
    missing = sorted(m for m in extracted(tmp_path) if not polish.get(m))
    assert not missing, "untranslated (run ./dev i18n, then translate): " + "\n".join(missing)


def test_translations_keep_the_same_placeholders() -> None:
    wrong = [(m, t) for m, t in catalogue().items() if t and fields(m) != fields(t)]
    assert not wrong


def test_language_switch_and_locale() -> None:
    with language("pl"):
        assert get_language() == "pl"
        assert _("warning") == "ostrzeżenie"
        assert locale_for() == "pl_PL"
    assert _("warning") == "warning"
    assert locale_for("en") == "en_GB"
    with pytest.raises(ValueError, match="unsupported language"):
        set_language("de")


def test_default_language_comes_from_the_environment() -> None:
    code = "from mailkit.i18n import get_language; print(get_language())"
    for env, expected in (
        ({"MAILKIT_LANG": "en"}, "en"),
        ({"LANG": "pl_PL.UTF-8"}, "pl"),
        ({}, "pl"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin", **env},
            check=True,
            timeout=60,
        ).stdout
        assert out.strip() == expected, env


def test_no_user_message_is_an_fstring_without_translation() -> None:
    """mailkit errors raised with a literal f-string would escape translation."""
    names = "|".join(errors.__all__)
    pattern = re.compile(rf"raise (?:{names})\(\s*f[\"']")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "mailkit").rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders
