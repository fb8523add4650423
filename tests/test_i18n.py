"""Polish and English: every message in the code has a Polish translation with the same fields."""

from __future__ import annotations

import ast
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from mailkit import errors, labels
from mailkit.catalog import Origin
from mailkit.config import DsnNotify
from mailkit.data.fields import FieldKind
from mailkit.delivery import Delivery
from mailkit.findings import Finding, Severity, format_finding
from mailkit.formatting import format_decimal, format_number
from mailkit.i18n import _, get_language, language, locale_for, set_language
from mailkit.inbound import Kind, Outcome
from mailkit.outboxlog import RowState
from mailkit.store import Scope
from mailkit.transports.base import SendStatus

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


def test_percent_style_translations_keep_their_placeholders() -> None:
    """argparse's own messages (mailkit.cli.argparse_text) are formatted with %."""
    spec = re.compile(r"%(?:\([a-z_]+\))?[sdr]")
    with PO.open("rb") as fh:
        entries = [m for m in read_po(fh, locale="pl") if m.id and "python-format" in m.flags]
    assert entries
    wrong = [
        m.id
        for m in entries
        if sorted(spec.findall(str(m.id))) != sorted(spec.findall(str(m.string)))
        or str(m.id).endswith(("\n", " ")) != str(m.string).endswith(("\n", " "))
    ]
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


def _translated_literals_in_fstrings(path: Path) -> list[int]:
    """Lines where ``_("...")`` or ``N_("...")`` sits inside an f-string: pybabel on Python
    3.11 reads an f-string as one token, so such a msgid is never extracted."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in ("_", "N_")
                and any(isinstance(a, ast.Constant) for a in call.args)
            ):
                lines.append(call.lineno)
    return lines


def test_no_msgid_is_hidden_inside_an_fstring() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in sorted((ROOT / "mailkit").rglob("*.py"))
        for line in _translated_literals_in_fstrings(p)
    ]
    assert not offenders


def test_every_stored_value_has_a_name() -> None:
    tables = {
        Scope: labels.SCOPE_NAMES,
        Origin: labels.ORIGIN_NAMES,
        RowState: labels.STATE_NAMES,
        SendStatus: labels.STATUS_NAMES,
        Outcome: labels.OUTCOME_NAMES,
        Kind: labels.INBOUND_KIND_NAMES,
        FieldKind: labels.FIELD_KIND_NAMES,
        DsnNotify: labels.DSN_NAMES,
    }
    for enum, names in tables.items():
        assert set(names) == {m.value for m in enum}, enum
    assert set(labels.DELIVERY_NAMES) == {d.value for d in Delivery if d.value}


def test_stored_values_are_shown_in_the_current_language() -> None:
    with language("pl"):
        assert labels.scope_label(Scope.GLOBAL) == "wspólne"
        assert labels.origin_label(Origin.SHIPPED) == "wbudowane"
        assert labels.state_label("partial") == "wysłano częściowo"
        assert labels.status_label(SendStatus.FAILED) == "nie wysłano"
        assert labels.delivery_label(Delivery.BOUNCED) == "nie doręczono"
        assert labels.delivery_label(Delivery.NONE) == ""
        assert labels.outcome_label("auto-replied") == "odpowiedziano automatycznie"
        assert labels.field_kind_label(FieldKind.MONEY) == "kwota"
        assert labels.label(labels.DSN_NAMES, DsnNotify.ON_FAILURE) == "przy niepowodzeniu"
        assert labels.state_label("something-new") == "something-new"
    assert labels.scope_label(Scope.GLOBAL) == "global"
    assert labels.state_label(RowState.PARTIAL) == "partly sent"
    assert str(Scope.GLOBAL) == "global"  # what TOML, SQLite and exports keep


def test_findings_line_up_in_both_languages() -> None:
    error = Finding(Severity.ERROR, "x", "bad", row="P1")
    warning = Finding(Severity.WARNING, "x", "odd", row="P2")
    assert format_finding(error) == "ERROR    row P1: bad"
    assert format_finding(warning) == "warning  row P2: odd"
    with language("pl"):
        lines = [format_finding(error), format_finding(warning)]
    assert lines[0].startswith("BŁĄD ") and lines[1].startswith("ostrzeżenie ")
    assert lines[0].index("wiersz") == lines[1].index("wiersz") > len("ostrzeżenie")


def test_numbers_in_messages_follow_the_language() -> None:
    assert format_decimal(1234.56, 1) == "1,234.6"
    assert format_decimal(2.4) == "2"
    with language("pl"):
        assert format_decimal(1234.56, 1) == "1\xa0234,6"
        assert format_decimal(0.25, 2) == "0,25"
        assert format_number(12345) == "12\xa0345"
