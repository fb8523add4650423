"""The Send tab, headless: sender rules, rows, confirmation, progress, cancel and resume, tests."""

from __future__ import annotations

import asyncio
import email
import html
import socket
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from payroll import pdf_opens_with
from sendapp import SENDER, open_app, server_account, sink_account, until
from smtp_server import FaultServer

from mailkit.enqueue import batch_id
from mailkit.sendview import outbox_path
from mailkit.sentlog import batch_log, captured
from mailkit.sink import Sink, read_message
from mailkit.ui import DataTab, LogTab, PreviewTab, SendTab


def test_all_reminders_go_to_the_sink_and_the_log_shows_each(
    samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILKIT_SINK_FOLDER", str(samples.parent / "sink"))  # as ./dev app does

    async def scenario() -> None:
        async with Sink(samples.parent / "sink", port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            assert tab.sender.value == "rules"
            assert "your own account Local test sink" in tab.sender_text.value
            assert "35 of 35 messages ready" in tab.summary.value
            tab.mode.value = "all"
            tab.send_button.click()
            seen = []
            while tab.dispatch.running:  # the bar moves while the task runs
                seen.append(tab.dispatch.bar.value)
                await asyncio.sleep(0.01)
            bar = tab.dispatch.bar
            assert (bar.value, bar.max, bar.bar_style) == (35, 35, "success")
            assert "sent: 35" in tab.notice.value
            assert not tab.dispatch.confirm.asking  # the sink needs no confirmation
            assert len(captured(samples.parent / "sink")) == 35
            log = app.panel(LogTab)
            app.select(LogTab)
            await app.ready()
            assert "35 row(s)" in log.counts.value
            assert log.table.value.count('class="mk-state mk-state-sent"') == 35
            assert "35 message(s) captured" in log.sink.summary.value

    asyncio.run(scenario())


def test_a_real_server_is_confirmed_on_the_page_first(samples: Path) -> None:
    with FaultServer() as server:
        server_account(server)

        async def scenario() -> None:
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            tab.mode.value = "all"
            tab.send_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            question = html.unescape(tab.dispatch.confirm.question.value)
            assert "35 message(s)" in question
            assert f"127.0.0.1:{server.port}" in question
            tab.dispatch.confirm.no.click()
            await tab.dispatch.task
            assert "Not confirmed" in tab.notice.value
            assert server.stored == []
            tab.send_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            tab.dispatch.confirm.yes.click()
            await tab.dispatch.task
            assert len(server.stored) == 35

        asyncio.run(scenario())


def test_cancel_stops_the_run_and_resume_sends_each_rest_once(samples: Path) -> None:
    with FaultServer() as server:
        server.handler.stall["DATA"] = [0.15] * 35  # each message takes a while
        server_account(server)

        async def scenario() -> None:
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            tab.mode.value = "all"
            tab.send_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            tab.dispatch.confirm.yes.click()
            await until(lambda: len(server.stored) >= 3)
            tab.dispatch.cancel_button.click()
            await tab.dispatch.task
            assert "queued" in tab.notice.value
            assert 3 <= len(server.stored) < 35
            assert not tab.dispatch.resume_button.disabled
            tab.dispatch.resume_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            tab.dispatch.confirm.yes.click()
            await tab.dispatch.task
            assert tab.dispatch.bar.value == tab.dispatch.bar.max == 35

        asyncio.run(scenario())
        ids = [s.message_id for s in server.stored]
        assert len(ids) == len(set(ids)) == 35  # nothing twice


def test_unknown_rows_are_sent_again_only_after_a_yes(samples: Path) -> None:
    with FaultServer() as server:
        server.handler.drop = ["after_dot"]  # the first message is stored, its reply lost
        server_account(server)

        async def scenario() -> None:
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            tab.mode.value = "current"
            tab.send_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            tab.dispatch.confirm.yes.click()
            await tab.dispatch.task
            assert "unknown" in tab.notice.value
            assert not tab.resend_button.disabled
            tab.resend_button.click()
            await until(lambda: tab.dispatch.confirm.asking)
            assert "same Message-ID" in html.unescape(tab.dispatch.confirm.question.value)
            tab.dispatch.confirm.yes.click()  # one question for a resend, not two
            await tab.dispatch.task
            assert "sent: 1" in tab.notice.value
            assert tab.resend_button.disabled

        asyncio.run(scenario())
        first, again = server.stored
        assert first.message_id == again.message_id  # the same message, not a new one


def test_a_test_to_me_and_a_redirected_batch_reach_only_the_test_address(
    samples: Path,
) -> None:
    folder = samples.parent / "sink"

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            tab.test_button.click()
            await tab.test_task
            assert "Test message to" in tab.notice.value and "sent" in tab.notice.value
            tab.redirect.value = True
            tab.mode.value = "all"
            tab.send_button.click()
            assert "Type the test address" in tab.notice.value
            assert not tab.dispatch.running
            tab.test_address.value = "tester@example.org"
            tab.send_button.click()
            await tab.dispatch.task
            assert "sent: 35" in tab.notice.value
            job = app.state.merge.job
            assert batch_log(outbox_path(job), batch_id(job)) == []  # the real batch: untouched
            assert (
                len(batch_log(outbox_path(job), batch_id(job, redirect="tester@example.org"))) == 35
            )

    asyncio.run(scenario())
    found = captured(folder)
    assert [c.recipients for c in found].count(("tester@example.org",)) == 35
    assert sum(c.recipients == (SENDER,) for c in found) == 1  # the test to me
    assert all(c.subject.startswith("[TEST]") for c in found)


def test_only_the_selected_rows_go(samples: Path) -> None:
    folder = samples.parent / "sink"

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples)
            tab = app.panel(SendTab)
            app.select(SendTab)
            tab.mode.value = "selected"
            assert tab.selected.layout.display == "flex"
            tab.send_button.click()
            assert "choose the rows to send first" in tab.notice.value
            keys = app.state.merge.keys()
            tab.selected.value = (keys[3], keys[7])
            tab.send_button.click()
            await tab.dispatch.task
            assert "sent: 2" in tab.notice.value

    asyncio.run(scenario())
    assert len(captured(folder)) == 2


def test_a_held_payslip_gets_a_typed_password_and_goes(samples: Path, uploaded) -> None:  # type: ignore[no-untyped-def]
    source = (samples.parent / "employees.csv").read_text(encoding="utf-8-sig").splitlines()
    head, first, second, *_rest = source
    cells = second.split(";")
    cells[3] = ""  # the second employee's PESEL is missing
    table = "\n".join([head, first, ";".join(cells)]) + "\n"
    folder = samples.parent / "sink"

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples, "payslips.toml")
            app.panel(DataTab).upload.value = uploaded(("pracownicy.csv", table.encode()))
            await app.ready()
            tab = app.panel(SendTab)
            app.select(SendTab)
            key = cells[0]
            assert tab.held.value == key
            assert "1 row(s) held" in tab.protection.value
            tab.password.value = "krótkie"
            tab.password_button.click()
            assert tab.password.value == ""  # emptied right after it was read
            assert f"password for row {key} needs at least 8" in tab.notice.value
            tab.password.value = "Mocne-Haslo-77"
            tab.password_button.click()
            assert tab.password.value == ""
            await app.ready()
            assert app.state.report is not None and app.state.report.ok
            assert tab.held_box.layout.display == "none"
            tab.mode.value = "all"
            tab.send_button.click()
            await tab.dispatch.task
            assert "sent: 2" in tab.notice.value

    asyncio.run(scenario())
    opened = []
    for item in captured(folder):
        msg = email.message_from_bytes(read_message(folder, item.id), policy=policy.default)
        for part in msg.iter_attachments():
            if pdf_opens_with(part.get_content(), "Mocne-Haslo-77"):
                opened.append(msg["To"])
    assert len(opened) == 1  # only the held row's payslip opens with the typed password
    assert cells[4] in opened[0]  # the employee whose PESEL was missing


BIG_JOB = """\
name = "Duża paczka"
kind = "rows"
[data]
path = "people.csv"
key = "id"
[data.columns]
id = "Nr"
"imię" = "Imię"
email = "E-mail"
[template]
subject = "Rozliczenie dla {imię}"
text = "Dzień dobry {imię}, w załączeniu rozliczenie."
[sender]
address = "biuro@hurtownia-baltyk.example.com"
"""


@pytest.mark.slow
def test_the_kernel_stays_responsive_while_a_big_batch_goes(tmp_path: Path) -> None:
    """2,000 messages to a sink in another process (as ./dev app runs it): the loop keeps
    answering and Preview keeps switching rows (bench/app_bench.py measures 10,000)."""
    rows = ["Nr,Imię,E-mail"] + [f"R{i:04d},Osoba{i},osoba{i}@example.org" for i in range(2000)]
    (tmp_path / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "big.toml").write_text(BIG_JOB, encoding="utf-8")
    port = _free_port()
    command = [sys.executable, "-m", "mailkit", "sink", "--folder", str(tmp_path / "sink")]
    sink = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    turns = 0
    shown: set[str] = set()

    async def scenario() -> None:
        nonlocal turns
        await until(lambda: _listening(port), timeout=20)
        sink_account(port)
        app = await open_app(tmp_path, "big.toml")
        app.select(PreviewTab)
        tab, preview = app.panel(SendTab), app.panel(PreviewTab)
        tab.mode.value = "all"
        tab.send_button.click()
        while tab.dispatch.running:
            await asyncio.sleep(0.02)
            turns += 1
            if turns % 10 == 0:
                preview.next_button.click()
                assert preview.shown is not None
                shown.add(preview.shown.key)
        assert "sent: 2000" in tab.notice.value

    try:
        asyncio.run(scenario())
    finally:
        sink.terminate()
        sink.wait(30)
    # The loop kept turning and Preview kept answering while the batch went out; how fast is
    # measured by bench/app_bench.py, not asserted here.
    assert turns >= 10
    assert len(shown) >= 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
