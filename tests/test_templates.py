"""Seed macros on a strict Jinja2 sandbox: unknown macros, escaping, limits, locale formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mailkit.errors import TemplateError
from mailkit.formatting import Money
from mailkit.macros import Item
from mailkit.templates import HTML_LIMIT, TemplateSource, compile_template, html_problems

KNOWN = ["numer", "z_dnia", "kontrahent", "firma", "wysyłający", "suma", "faktury", "link"]
CTX = {
    "numer": "FV/2026/10/0012",
    "z_dnia": dt.date(2026, 11, 2),
    "kontrahent": 'Kłos & Syn <script>alert("x")</script>',
    "firma": "Hurtownia Bałtyk",
    "wysyłający": "Anna",
    "suma": Money(Decimal("1234.56")),
    "faktury": (Item(numer="A/1", dni=3), Item(numer="A/2", dni=40)),
    "link": "https://pay.example.com/?id=1",
}


def render(subject: str = "x", text: str = "", html: str = "", language: str = "pl"):  # type: ignore[no-untyped-def]
    template = compile_template(TemplateSource(subject, text, html, language=language), KNOWN)
    return template.render(CTX, row="R1")


def test_seed_macros_with_spaces_and_polish_letters() -> None:
    out = render("Faktura {numer} z dnia {z dnia}", "{wysyłający}, {firma}: {suma}")
    assert out.subject == "Faktura FV/2026/10/0012 z dnia 02.11.2026"
    assert out.text == "Anna, Hurtownia Bałtyk: 1\u00a0234,56\u00a0zł"


def test_english_locale_formats_the_english_way() -> None:
    out = render("{z dnia}", "{suma}", language="en")
    assert (out.subject, out.text) == ("02/11/2026", "PLN1,234.56")


def test_unknown_macro_is_an_error_listing_known_ones_with_a_suggestion() -> None:
    with pytest.raises(TemplateError) as caught:
        render("Dla {kontrahnet}", "x")
    err = caught.value
    assert err.macro == "{kontrahnet}"
    assert "Did you mean {kontrahent}?" in err.message
    assert "{z dnia}" in err.message and "{firma}" in err.message


def test_unknown_jinja_variable_is_an_error_too() -> None:
    with pytest.raises(TemplateError, match=r"Unknown macro \{\{ total \}\}"):
        render("x", "{{ total }}")


def test_an_unmapped_seed_macro_says_how_to_map_it() -> None:
    with pytest.raises(TemplateError, match=r"maps no column to it: add umowa"):
        render("Umowa {umowa}", "x")


def test_loops_and_conditions_work_on_items() -> None:
    text = "{% for f in faktury %}{{ f.numer }}{% if f.dni > 30 %}!{% endif %};{% endfor %}"
    assert render("x", text).text == "A/1;A/2!;"


def test_values_are_escaped_in_html_but_not_in_text() -> None:
    out = render("{kontrahent}", "{kontrahent}", "<html><body>{kontrahent}</body></html>")
    assert "<script>" in out.text and "<script>" in out.subject
    assert "&lt;script&gt;" in (out.html or "") and "<script>" not in (out.html or "")
    assert "&amp;" in (out.html or "")


def test_text_alternative_is_made_from_html_when_missing() -> None:
    out = render(
        "x",
        "",
        "<html><body><p>Razem: {suma}</p><table><tr><td>A/1</td><td>3</td>"
        "</tr></table></body></html>",
    )
    assert "Razem: 1 234,56 zł" in out.text.replace("\u00a0", " ")
    assert "A/1" in out.text and "<" not in out.text


def test_html_must_start_with_html_and_stay_under_32_kb() -> None:
    with pytest.raises(TemplateError, match="must start with <html>"):
        render("x", "", "<p>hi</p>")
    assert render("x", "", "<!DOCTYPE html>\n<html><body>ok</body></html>").html
    big = "<html><body>" + "x" * HTML_LIMIT + "</body></html>"
    with pytest.raises(TemplateError, match="32 KB"):
        render("x", "", big)


def test_dangerous_links_are_refused_whether_written_or_merged() -> None:
    with pytest.raises(TemplateError, match="javascript"):
        render("x", "", '<html><a href="javascript:alert(1)">x</a></html>')
    ok = render("x", "", '<html><a href="{link}">pay</a><img src="cid:logo"></html>')
    assert 'href="https://pay.example.com/?id=1"' in (ok.html or "")
    template = compile_template(
        TemplateSource("x", html='<html><a href="{link}">x</a></html>'), KNOWN
    )
    with pytest.raises(TemplateError, match="only http"):
        template.render({**CTX, "link": "java\tscript:alert(1)"}, row="R9")
    assert html_problems('<a href="data:text/html,x">') == ["data:text/html,x"]


def test_the_sandbox_keeps_templates_away_from_python_internals() -> None:
    with pytest.raises(TemplateError, match="cannot be filled in"):
        render("x", "{{ numer.__class__.__mro__ }}")
    with pytest.raises(TemplateError):
        render("x", "{{ faktury.append(1) }}")


def test_missing_attribute_names_the_row() -> None:
    with pytest.raises(TemplateError, match="Row R1"):
        render("x", "{% for f in faktury %}{{ f.kwota }}{% endfor %}")


def test_a_subject_cannot_gain_a_line_break_from_a_value() -> None:
    template = compile_template(TemplateSource("{kontrahent}", "x"), KNOWN)
    with pytest.raises(TemplateError, match="subject is refused"):
        template.render({**CTX, "kontrahent": "A\nBcc: x@example.com"}, row="R2")


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError, match="syntax error on line 2"):
        render("x", "ok\n{% for f in faktury %}")


def test_a_template_needs_a_body() -> None:
    with pytest.raises(TemplateError, match="no body"):
        render("x")


def test_css_braces_are_not_macros() -> None:
    html = "<html><style>p {color: red; margin: 0}</style><p>{numer}</p></html>"
    assert "p {color: red; margin: 0}" in (render("x", "", html).html or "")
