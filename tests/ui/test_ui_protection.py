"""Attachment protection on the Send tab: seen, changed (column, random, none), and followed by
what is sent."""

from __future__ import annotations

import asyncio
import csv
import email
import html
from email import policy
from pathlib import Path

import pytest
from payroll import pdf_opens_with
from sendapp import open_app, sink_account

from mailkit.errors import ConfigError
from mailkit.passwords import default_report_path
from mailkit.protectview import reprotect
from mailkit.sentlog import captured
from mailkit.sink import Sink, read_message
from mailkit.ui import DataTab, PreviewTab, SendTab


def _table(samples: Path) -> tuple[str, list[list[str]]]:
    """Two employees; the second has no PESEL (held while the PESEL is the password)."""
    head, *rows = (samples.parent / "employees.csv").read_text("utf-8-sig").splitlines()
    cells = [r.split(";") for r in rows[:2]]
    cells[1][3] = ""
    return "\n".join([head, *(";".join(c) for c in cells)]) + "\n", cells


def test_a_random_password_replaces_the_pesel_and_the_sent_payslips_follow(
    samples: Path, uploaded
) -> None:  # type: ignore[no-untyped-def]
    table, cells = _table(samples)
    folder = samples.parent / "sink"
    report: list[Path] = []

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples, "payslips.toml")
            app.panel(DataTab).upload.value = uploaded(("pracownicy.csv", table.encode()))
            await app.ready()
            tab = app.panel(SendTab)
            app.select(SendTab)
            choices = {value: label for label, value in tab.protect_with.options}
            assert tab.protect_with.layout.display == "flex"
            assert tab.protect_with.value == "column:pesel"
            assert 'the column "PESEL" (weak' in choices["column:pesel"]
            assert {"off", "random", "column:id"} <= set(choices)
            assert "column:email" not in choices and "column:brutto" not in choices
            assert tab.held_box.layout.display == "flex"  # no PESEL: the row waits
            tab.protect_with.value = "random"
            await app.ready()
            assert app.state.report is not None and app.state.report.ok
            assert tab.held_box.layout.display == "none"  # a random password needs no PESEL
            assert "checking again" in tab.notice.value
            report.append(default_report_path(app.state.merge.job))
            assert str(report[0]) in tab.protection.value
            tab.mode.value = "all"
            tab.send_button.click()
            await tab.dispatch.task
            assert "sent: 2" in tab.notice.value

    asyncio.run(scenario())
    assert report[0].stat().st_mode & 0o077 == 0  # readable by its owner only
    with report[0].open(encoding="utf-8-sig", newline="") as fh:
        passwords = {r["email"]: r["password"] for r in csv.DictReader(fh)}
    pesels = {c[4]: c[3] for c in cells}
    assert set(passwords) == set(pesels)
    for item in captured(folder):
        msg = email.message_from_bytes(read_message(folder, item.id), policy=policy.default)
        address = msg["To"].addresses[0].addr_spec
        (pdf,) = [p.get_content() for p in msg.iter_attachments()]
        assert pdf_opens_with(pdf, passwords[address])
        assert not pdf_opens_with(pdf, pesels[address] or "x")


def test_protection_can_be_switched_off_and_back(samples: Path) -> None:
    async def scenario() -> None:
        app = await open_app(samples, "payslips.toml")
        tab, preview = app.panel(SendTab), app.panel(PreviewTab)
        app.select(SendTab)
        tab.protect_with.value = "off"
        await app.ready()
        assert "not password-protected" in tab.protection.value
        app.select(PreviewTab)
        assert "not protected" in preview.attachments.value
        assert "PDF AES-256" not in preview.attachments.value
        app.select(SendTab)
        tab.protect_with.value = "column:pesel"
        await app.ready()
        assert 'the column "PESEL"' in html.unescape(tab.protection.value)
        app.select(PreviewTab)
        assert "PDF AES-256" in preview.attachments.value
        with pytest.raises(ConfigError, match="from the list"):
            reprotect(app.state.merge, "column:email")  # an address makes no password

    asyncio.run(scenario())
