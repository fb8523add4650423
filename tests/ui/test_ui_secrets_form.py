"""The support notebook's secrets form, headless: one box per missing secret, emptied on import."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailkit.config import Secret
from mailkit.reproduce import Reproduction, open_bundle
from mailkit.secrets import create_key_file
from mailkit.ui.secrets_form import SecretsForm

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "data" / "support" / "baltyk_bundle.toml"
NEED = ("Kadry", "smtp.password")


@pytest.fixture
def repro() -> Iterator[Reproduction]:
    opened = open_bundle(BUNDLE)
    yield opened
    opened.close()


def test_a_typed_secret_imports_the_bundle_and_leaves_no_trace_in_the_widgets(
    repro: Reproduction,
) -> None:
    form = SecretsForm(repro)
    assert list(form.boxes) == [NEED]
    label = html.unescape(form.rows.children[0].children[0].value)
    for part in ("Kadry", "smtp.password", "kadry@hurtownia-baltyk.example.com"):
        assert part in label
    assert "smtp.hurtownia-baltyk.example.com" in label
    box = form.boxes[NEED]
    box.value = "Haslo-Klienta-77"
    form.import_button.click()
    assert "Imported 1 account(s), 2 template(s), 1 type(s), 1 job(s)." in form.notice.value
    assert "mk-ok" in form.notice.value
    assert box.value == ""  # read, then emptied
    assert form.boxes == {} and "No secret is missing" in form.rows.children[0].value
    assert form.result is not None and form.result.still_missing == ()
    assert repro.account("Kadry").smtp.password == Secret("Haslo-Klienta-77")
    assert "Haslo-Klienta-77" not in form.notice.value


def test_an_empty_box_imports_the_rest_and_says_what_is_still_missing(
    repro: Reproduction,
) -> None:
    form = SecretsForm(repro)
    form.import_button.click()
    assert "Still missing: Kadry smtp.password." in form.notice.value
    assert "mk-warning" in form.notice.value
    assert list(form.boxes) == [NEED]  # asked for again
    assert repro.store.secret_fields("Kadry", repro.bundle.accounts[0][0]) == {}


def test_an_import_that_fails_shows_why_and_still_empties_the_box(
    repro: Reproduction,
) -> None:
    key = repro.folder / "keys" / "global.key"
    create_key_file(key)
    key.chmod(0o644)  # readable by everyone: mailkit refuses to use it
    form = SecretsForm(repro)
    box = form.boxes[NEED]
    box.value = "Haslo-Klienta-77"
    form.import_button.click()
    assert "mk-error" in form.notice.value
    assert "chmod 0640" in html.unescape(form.notice.value), form.notice.value
    assert "Traceback" not in form.notice.value and "Haslo-Klienta-77" not in form.notice.value
    assert box.value == ""
    assert form.result is None
    assert repro.needs()  # all or nothing: the import was rolled back
    key.chmod(0o600)  # fixed: the same form imports
    form.boxes[NEED].value = "Haslo-Klienta-77"
    form.import_button.click()
    assert "mk-ok" in form.notice.value and repro.needs() == []
