"""Message types and templates: shipped defaults in two languages, scopes, defaults, profiles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from users import Users

from mailkit.catalog import (
    CatalogTemplate,
    MessageType,
    Origin,
    default_template,
    delete_template,
    get_template,
    list_templates,
    list_types,
    save_template,
    save_type,
    shipped_templates,
    shipped_types,
)
from mailkit.errors import ConfigError, TemplateError
from mailkit.job import load_job, load_template
from mailkit.merge import prepare
from mailkit.preflight import preflight
from mailkit.store import Scope

ROOT = Path(__file__).resolve().parents[1]
JOBS = ROOT / "data" / "jobs"


@pytest.fixture
def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    group = Users(tmp_path, monkeypatch)
    yield group
    group.close()


def test_shipped_types_have_a_default_template_in_polish_and_english() -> None:
    assert {t.name for t in shipped_types()} == {"pasek", "pit-11", "zus", "przypomnienie"}
    for kind in shipped_types():
        for lang in ("pl", "en"):
            found = default_template(None, kind.name, lang)
            assert found.item.default
            assert found.origin is Origin.SHIPPED
    reminders = [t for t in shipped_templates() if t.type == "przypomnienie"]
    assert sorted(t.language for t in reminders) == ["en"] * 3 + ["pl"] * 3
    assert shipped_types()[0].label("en") == "Payslip"


def test_shipped_files_use_the_template_file_format() -> None:
    for path in (ROOT / "mailkit" / "defaults" / "templates").glob("*.toml"):
        source = load_template(path)
        assert source.language in path.name


@pytest.mark.parametrize(
    "template", [t for t in shipped_templates() if t.type == "przypomnienie"], ids=lambda t: t.name
)
def test_shipped_reminders_pass_preflight(template: CatalogTemplate) -> None:
    job = dataclasses.replace(
        load_job(JOBS / "overdue.toml"), template=template.source(), language=template.language
    )
    report = preflight(prepare(job))
    assert report.ok, report.lines()


@pytest.mark.parametrize(
    "template", [t for t in shipped_templates() if t.type != "przypomnienie"], ids=lambda t: t.name
)
def test_shipped_employee_templates_pass_preflight(
    template: CatalogTemplate, write_csv, write_job
) -> None:
    write_csv(
        "employees.csv",
        [
            ["Nr", "Imię", "E-mail", "Okres", "Rok", "Formularz"],
            ["P1", "Zofia", "zofia@example.com", "10/2026", "2025", "ZUS RMUA"],
        ],
    )
    path = write_job("""
        kind = "rows"
        company = "Firma"
        [data]
        path = "employees.csv"
        key = "id"
        [data.columns]
        id = "Nr"
        "imię" = "Imię"
        email = "E-mail"
        okres = "Okres"
        rok = "Rok"
        formularz = "Formularz"
        [template]
        subject = "x"
        text = "x"
        [sender]
        address = "kadry@firma.example.com"
    """)
    job = dataclasses.replace(load_job(path), template=template.source())
    merge = prepare(job)
    assert preflight(merge).ok
    draft = merge.draft(merge.records.records[0])
    assert "Zofia" in draft.text
    assert "{" not in draft.subject


def test_crud_and_filters(users: Users) -> None:
    anna = users.become("anna")
    mine = CatalogTemplate("Premia roczna", "pasek", "Premia za {rok}", "Dzień dobry {imię}")
    save_template(anna, mine, Scope.PERSONAL)
    anna.select_scope(Scope.PERSONAL)
    assert [t.item.name for t in list_templates(anna, text="premia")] == ["Premia roczna"]
    assert {t.item.type for t in list_templates(anna, type="pasek")} == {"pasek"}
    assert all(t.item.language == "en" for t in list_templates(anna, language="en"))
    assert get_template(anna, "Premia roczna").origin is Origin.PERSONAL
    changed = dataclasses.replace(mine, subject="Premia {rok}")
    saved = save_template(anna, changed, Scope.PERSONAL)
    assert saved.revision == 2
    delete_template(anna, "Premia roczna", Scope.PERSONAL)
    with pytest.raises(ConfigError, match="no template Premia roczna"):
        get_template(anna, "Premia roczna")
    assert [t.item.name for t in list_types(anna, text="ZUS")] == ["zus"]


def test_bad_templates_are_refused_when_saved(users: Users) -> None:
    anna = users.become("anna")
    with pytest.raises(TemplateError, match="syntax error"):
        save_template(anna, CatalogTemplate("Zły", "pasek", "x", "{% for %}"), Scope.GLOBAL)
    with pytest.raises(ConfigError, match="no message type nieznany"):
        save_template(anna, CatalogTemplate("Zły", "nieznany", "x", "y"), Scope.GLOBAL)


def test_one_default_per_type_and_language(users: Users) -> None:
    anna = users.become("anna")
    first = CatalogTemplate("Pasek A", "pasek", "A {okres}", "a", default=True)
    second = CatalogTemplate("Pasek B", "pasek", "B {okres}", "b", default=True)
    save_template(anna, first, Scope.GLOBAL)
    assert default_template(anna, "pasek").item.name == "Pasek A"
    save_template(anna, second, Scope.GLOBAL)
    assert default_template(anna, "pasek").item.name == "Pasek B"
    assert not get_template(anna, "Pasek A").item.default
    assert default_template(anna, "pasek", "en").origin is Origin.SHIPPED


def test_a_personal_change_affects_only_that_user(users: Users) -> None:
    anna = users.become("anna")
    bartek = users.become("bartek")
    shipped = get_template(bartek, "Pasek wynagrodzeń").item
    save_template(bartek, dataclasses.replace(shipped, subject="Mój pasek {okres}"), Scope.PERSONAL)
    bartek.select_scope(Scope.PERSONAL)
    assert get_template(bartek, "Pasek wynagrodzeń").item.subject == "Mój pasek {okres}"
    assert get_template(anna, "Pasek wynagrodzeń").origin is Origin.SHIPPED
    with pytest.raises(ConfigError, match="manage mail sending"):
        save_template(bartek, shipped, Scope.GLOBAL)


def test_availability_per_profile(users: Users) -> None:
    anna = users.become("anna")
    save_type(anna, MessageType("pasek", "Pasek", "Payslip", profiles=("kadry",)), Scope.GLOBAL)
    bartek = users.become("bartek")
    assert "pasek" not in {t.item.name for t in list_types(bartek)}
    assert not list_templates(bartek, type="pasek")
    anna.set_profiles("bartek", {"kadry"})
    assert {t.item.name for t in list_templates(bartek, type="pasek")} == {
        "Pasek wynagrodzeń",
        "Payslip",
    }
