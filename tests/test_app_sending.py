"""The core under the app's Send and Log tabs: sender rules, typed passwords, the sink, the log."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
from pathlib import Path

import pytest
from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.accountform import ensure_sink_account
from mailkit.accounts import Account
from mailkit.compose import compose, insert_template, send_draft
from mailkit.config import Secret, Security, SmtpSettings
from mailkit.enqueue import batch_id
from mailkit.errors import ConfigError, DataError
from mailkit.identity import resolve_sender
from mailkit.job import load_job
from mailkit.merge import prepare
from mailkit.outbox import RowState
from mailkit.saved_accounts import save_account
from mailkit.saved_jobs import find_job, save_job_file
from mailkit.sending import ConfirmInfo, SendRequest, SendRun
from mailkit.sendview import (
    outcome_text,
    resend_request,
    rows_to_send,
    send_as,
    with_passwords,
)
from mailkit.sentlog import (
    batch_counts,
    batch_log,
    captured,
    export_log,
    filter_log,
    keys_in_state,
    open_captured,
)
from mailkit.sink import Sink, is_mailkit_sink
from mailkit.store import Scope, SettingsStore

ROOT = Path(__file__).resolve().parents[1]


def _sink_account(store: SettingsStore, port: int) -> None:
    ensure_sink_account(store, port, "biuro@firma.example.com", "Biuro (test)")


def _fault_account(store: SettingsStore, server: FaultServer) -> None:
    smtp = SmtpSettings("127.0.0.1", server.port, Security.NONE, timeout_ms=2000)
    account = Account("Firma", "biuro@firma.example.com", smtp, owner=store.user)
    save_account(store, account, Scope.GLOBAL)


async def _with_sink(folder: Path, work):  # type: ignore[no-untyped-def]
    async with Sink(folder, port=0) as sink:
        return await work(sink)


def test_the_sink_is_recognised_by_its_greeting_and_nothing_else(tmp_path: Path) -> None:
    async def check(sink: Sink) -> list[bool]:
        with FaultServer() as other:
            return [
                await is_mailkit_sink("127.0.0.1", sink.port),
                await is_mailkit_sink("127.0.0.1", other.port),
                await is_mailkit_sink("192.0.2.1", sink.port),  # never asked: not this computer
            ]

    assert asyncio.run(_with_sink(tmp_path / "sink", check)) == [True, False, False]
    closed = asyncio.run(is_mailkit_sink("127.0.0.1", _closed_port()))
    assert closed is False


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_account_at_the_sink_needs_no_confirmation_a_real_server_does(
    tmp_path: Path,
) -> None:
    job_path = write_job(tmp_path, people(3))
    with SettingsStore() as store:

        async def run(sink: Sink) -> tuple[int, str]:
            _sink_account(store, sink.port)
            merge = send_as(prepare(load_job(job_path)), resolve_sender(store), store)
            outcome = await SendRun(merge.job, merge=merge).run()  # no confirm given
            assert outcome.report is not None
            return outcome.report.counts[RowState.SENT], outcome.report.batch

        sent, batch = asyncio.run(_with_sink(tmp_path / "sink", run))
        assert sent == 3
        assert len(captured(tmp_path / "sink")) == 3
        assert batch == batch_id(load_job(job_path))
        with FaultServer() as server:
            _fault_account(store, server)
            store.delete("account", "Local test sink", Scope.GLOBAL)
            merge = send_as(prepare(load_job(job_path)), resolve_sender(store), store)
            request = SendRequest(batch="real")
            with pytest.raises(ConfigError, match="needs an explicit confirmation"):
                asyncio.run(SendRun(merge.job, request, merge=merge).run())
            asked: list[ConfirmInfo] = []

            def no(info: ConfirmInfo) -> bool:
                asked.append(info)
                return False

            outcome = asyncio.run(SendRun(merge.job, request, merge=merge, confirm=no).run())
            assert not outcome.confirmed
            assert asked[0].due == 3
            assert f"127.0.0.1:{server.port}" in asked[0].where
            assert server.stored == []


@pytest.mark.parametrize("saved", [False, True], ids=["file", "saved"])
def test_send_as_follows_the_rules_and_back_to_the_job_file(tmp_path: Path, saved: bool) -> None:
    job_path = write_job(tmp_path, people(2))
    own_file = load_job(job_path)
    with SettingsStore() as store:
        if saved:  # a saved job whose file is gone: its settings come from the store
            save_job_file(store, job_path, Scope.PERSONAL)
            job_path.unlink()
            merge = prepare(find_job(store, "job").job())
        else:
            merge = prepare(load_job(job_path))
        _sink_account(store, 2525)
        identity = resolve_sender(store)
        ruled = send_as(merge, identity, store)
        assert ruled.records is merge.records  # nothing read again
        assert ruled.identity.sender.addr_spec == "biuro@firma.example.com"
        assert ruled.job.destination.spec.account == "Local test sink"  # type: ignore[union-attr]
        assert ruled.job.batch.rate_limits.connections == 8  # the local-sink preset
        own = send_as(ruled, None, store)
        assert own.identity.sender.addr_spec == "kadry@firma.example.com"
        assert own.job.destination == own_file.destination
        assert own.job.batch == own_file.batch  # the account's limits went with it


def test_rows_to_send_and_resend_requests(tmp_path: Path) -> None:
    job = load_job(write_job(tmp_path, people(3)))
    merge = prepare(job)
    assert rows_to_send(merge, "all") is None
    assert rows_to_send(merge, "current", "P002") == ("P002",)
    assert rows_to_send(merge, "selected", "P001", ["P001", "P003"]) == ("P001", "P003")
    with pytest.raises(ConfigError, match="choose the rows"):
        rows_to_send(merge, "selected", "P001", [])
    with pytest.raises(DataError, match="P999"):
        rows_to_send(merge, "current", "P999")
    own = resend_request(job, batch_id(job), ["P001"])
    assert own.resend_unknown and own.keys == ("P001",) and not own.redirect
    test = resend_request(job, batch_id(job, redirect="ja@example.org"), ["P002"])
    assert test.redirect == "ja@example.org"
    with pytest.raises(ConfigError, match="another job"):
        resend_request(job, "Inna paczka", ["P001"])


def test_a_typed_password_releases_a_held_row(write_csv, write_job) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ["Nr", "Imię", "Nazwisko", "PESEL", "E-mail", "Kwota"],
        ["P1", "Zofia", "Wójcik", "02270803624", "zofia@example.com", "5 717,13"],
        ["P2", "Jan", "Kowalski", "", "jan@example.org", "4806,00"],
    ]
    table = write_csv("employees.csv", rows)
    job_path = write_job(
        f"""
        name = "Paski"
        kind = "rows"
        [data]
        path = "{table.name}"
        key = "id"
        [data.columns]
        id = "Nr"
        "imię" = "Imię"
        nazwisko = "Nazwisko"
        pesel = "PESEL"
        email = "E-mail"
        kwota = {{ column = "Kwota", type = "money" }}
        [template]
        subject = "Pasek"
        text = "Dzień dobry {{imię}}."
        [attachments]
        generate = "payslip"
        name = "pasek"
        [sender]
        address = "kadry@firma.example.com"
        """
    )
    merge = prepare(load_job(job_path))
    assert merge.held() == ["P2"]
    with pytest.raises(ConfigError, match="P2 needs at least 8"):
        with_passwords(merge, {"P2": Secret("krótkie")})
    with pytest.raises(ConfigError, match="P1 already has a password"):
        with_passwords(merge, {"P1": Secret("Tajne-Haslo-1")})
    released = with_passwords(merge, {"P2": Secret("Tajne-Haslo-1")})
    assert released.held() == []
    assert merge.held() == ["P2"]  # the prepared merge is not changed


def test_the_log_filters_exports_and_finds_unknown_rows(tmp_path: Path) -> None:
    job_path = write_job(tmp_path, people(4))
    outbox_path = tmp_path / "outbox.sqlite3"
    job = load_job(job_path)
    assert batch_counts(outbox_path, "x") == {} and not outbox_path.exists()
    subject = '=HYPERLINK("http://x") {imię}'
    merge = prepare(
        dataclasses.replace(job, template=dataclasses.replace(job.template, subject=subject))
    )
    with FaultServer() as server:
        server.handler.drop = ["after_dot"]  # the first message: stored, then no reply
        with SettingsStore() as store:
            _fault_account(store, server)
            ruled = send_as(merge, resolve_sender(store), store)
        request = SendRequest(outbox=outbox_path, connections=1)
        outcome = asyncio.run(
            SendRun(ruled.job, request, merge=ruled, confirm=lambda _i: True).run()
        )
    assert outcome.report is not None
    rows = batch_log(outbox_path, batch_id(job))
    assert [r["state"] for r in rows].count("unknown") == 1
    unknown = keys_in_state(outbox_path, batch_id(job), "unknown")
    assert len(unknown) == 1
    assert [r["key"] for r in filter_log(rows, "unknown")] == unknown
    assert [r["key"] for r in filter_log(rows, "", "osoba3@")] == ["P003"]
    text, kind = outcome_text(outcome)
    assert kind == "warning" and "unknown" in text
    written = export_log(rows, tmp_path / "reports", batch_id(job), "csv")
    with written.open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == 4
    assert exported[0]["subject"].startswith("'=HYPERLINK")  # a formula never goes live
    xlsx = export_log(rows, tmp_path / "reports", batch_id(job), "xlsx")
    assert xlsx.suffix == ".xlsx" and xlsx.stat().st_size > 0
    with pytest.raises(ConfigError, match="csv or xlsx"):
        export_log(rows, tmp_path, "b", "pdf")


def test_a_composed_message_goes_to_the_sink_or_waits_for_a_yes(tmp_path: Path) -> None:
    job_path = write_job(tmp_path, people(2))
    merge = prepare(load_job(job_path))
    draft = compose(insert_template(merge, "P001"), subject="Pytanie", text="Treść.")
    with SettingsStore() as store:

        async def to_sink(sink: Sink):  # type: ignore[no-untyped-def]
            _sink_account(store, sink.port)
            ruled = send_as(merge, resolve_sender(store), store)
            return await send_draft(ruled, draft)  # no confirmation needed

        result = asyncio.run(_with_sink(tmp_path / "sink", to_sink))
        assert result is not None and result.status.value == "sent"
        found = captured(tmp_path / "sink")
        shown = open_captured(tmp_path / "sink", found[0].id)
        assert ("Subject", "Pytanie") in shown.headers
        assert "Treść." in shown.text
        store.delete("account", "Local test sink", Scope.GLOBAL)
        with FaultServer() as server:
            _fault_account(store, server)
            ruled = send_as(merge, resolve_sender(store), store)
            assert asyncio.run(send_draft(ruled, draft, lambda _i: False)) is None
            assert server.stored == []
            sent = asyncio.run(send_draft(ruled, draft, lambda _i: True))
            assert sent is not None and len(server.stored) == 1
