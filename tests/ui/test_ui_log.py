"""The Log tab and Compose's sending, headless: filters, privacy, export, resend, the sink."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest
from sendapp import open_app, server_account, sink_account, until
from smtp_server import FaultServer

from mailkit.sink import Sink
from mailkit.ui import App, ComposeTab, LogTab, SendTab


async def _send_all(app: App) -> None:
    tab = app.panel(SendTab)
    app.select(SendTab)
    tab.mode.value = "all"
    tab.send_button.click()
    if tab.dispatch.task is not None:
        while tab.dispatch.running:
            if tab.dispatch.confirm.asking:
                tab.dispatch.confirm.yes.click()
            await asyncio.sleep(0.02)


def test_the_log_filters_masks_exports_and_opens_what_the_sink_got(
    samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = samples.parent / "sink"
    monkeypatch.setenv("MAILKIT_SINK_FOLDER", str(folder))

    async def scenario() -> None:
        async with Sink(folder, port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples)
            await _send_all(app)
            log = app.panel(LogTab)
            app.select(LogTab)
            await app.ready()
            record = app.state.merge.records.records[2]
            address = record.values["email"].addr_spec
            assert address in log.table.value
            log.search.value = address
            assert log.table.value.count("<tr data-key") == 1
            log.search.value = ""
            log.state_filter.value = "sent"
            assert log.table.value.count("<tr data-key") == 35
            app.privacy.value = True  # as when sharing the screen
            assert address not in log.table.value and "•••" in log.table.value
            log.sink.draw()
            assert address not in log.sink.table.value
            app.privacy.value = False
            log.format.value = "xlsx"
            log.export_button.click()
            assert "Exported to" in log.notice.value
            assert 'download="' in log.download.value and ".xlsx" in log.download.value
            log.format.value = "csv"
            log.export_button.click()
            written = Path(html.unescape(log.notice.value).split("Exported to ")[1].split("<")[0])
            assert (
                written.suffix == ".csv" and len(written.read_text("utf-8-sig").splitlines()) == 36
            )
            log.sink.message.value = log.sink.message.options[0][1]
            log.sink.open_button.click()
            assert "Przypomnienie o płatności" in html.unescape(log.sink.shown.value)
            assert 'sandbox=""' in log.sink.shown.value  # the HTML body stays in a sandbox

    asyncio.run(scenario())


def test_the_log_resends_unknown_rows_after_a_yes(samples: Path) -> None:
    with FaultServer() as server:
        server.handler.drop = ["after_dot"]
        server_account(server)

        async def scenario() -> None:
            app = await open_app(samples)
            await _send_all(app)
            log = app.panel(LogTab)
            app.select(LogTab)
            await app.ready()
            assert "unknown: 1" in log.counts.value
            log.resend_button.click()
            await until(lambda: log.dispatch.confirm.asking)
            log.dispatch.confirm.no.click()
            await log.dispatch.task
            assert len(server.stored) == 35  # nothing sent again
            log.resend_button.click()
            await until(lambda: log.dispatch.confirm.asking)
            log.dispatch.confirm.yes.click()
            await log.dispatch.task
            await app.ready()
            assert "unknown" not in log.counts.value
            assert "sent: 35" in log.counts.value

        asyncio.run(scenario())
        ids = [s.message_id for s in server.stored]
        assert len(ids) == 36 and len(set(ids)) == 35  # the unknown one went twice, same ID


def test_compose_sends_to_the_sink_at_once_and_to_a_server_after_a_yes(samples: Path) -> None:
    async def to_sink() -> None:
        async with Sink(samples.parent / "sink", port=0) as sink:
            sink_account(sink.port)
            app = await open_app(samples)
            tab = app.panel(ComposeTab)
            app.select(ComposeTab)
            tab.send_button.click()
            await tab.task
            assert "sent 250" in tab.notice.value
            assert not tab.confirm.asking

    asyncio.run(to_sink())
    with FaultServer() as server:
        server_account(server, "Firma")

        async def to_server() -> None:
            app = await open_app(samples)
            tab = app.panel(ComposeTab)
            app.select(ComposeTab)
            tab.send_button.click()
            await until(lambda: tab.confirm.asking)
            tab.confirm.no.click()
            await tab.task
            assert "nothing was sent" in tab.notice.value and server.stored == []
            tab.send_button.click()
            await until(lambda: tab.confirm.asking)
            tab.confirm.yes.click()
            await tab.task
            assert len(server.stored) == 1

        asyncio.run(to_server())
