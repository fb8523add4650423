"""The outbox journal: private file, frozen rows, conditional claims, crash recovery, retention."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mailkit.errors import BatchBusyError, JournalError
from mailkit.message import OutgoingMessage
from mailkit.outbox import Outbox, RowState, default_outbox_path, new_owner
from mailkit.transports.base import RecipientResult, SendResult, SendStatus


def message(key: str, *rcpts: str) -> OutgoingMessage:
    data = f"Message-ID: <{key}@firma.example.com>\r\nSubject: {key}\r\n\r\nx\r\n".encode()
    return OutgoingMessage(key, f"<{key}@firma.example.com>", "a@firma.example.com", rcpts, data)


@pytest.fixture
def box(tmp_path: Path) -> Outbox:
    with Outbox(tmp_path / "db" / "outbox.sqlite3") as outbox:
        outbox.ensure_batch("b", "job")
        outbox.stage("b", [(i, message(f"K{i}", f"r{i}@example.org"), f"s{i}") for i in range(3)])
        outbox.release("b")
        yield outbox


def test_default_path_follows_xdg_and_can_be_set(monkeypatch, tmp_path) -> None:
    assert default_outbox_path() == Path.home() / ".local/share/mailkit/outbox.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_outbox_path() == tmp_path / "mailkit" / "outbox.sqlite3"
    monkeypatch.setenv("MAILKIT_OUTBOX", str(tmp_path / "x.db"))
    assert default_outbox_path() == tmp_path / "x.db"


def test_database_files_are_private(box: Outbox) -> None:
    box.heartbeat("b", "nobody")  # a write, so the WAL exists
    for path in (box.path, Path(f"{box.path}-wal"), Path(f"{box.path}-shm")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(box.path.parent.stat().st_mode) == 0o700
    mode = box.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert box.db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_staged_rows_are_invisible_until_released(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.ensure_batch("b", "job")
        outbox.stage("b", [(0, message("K0", "r@example.org"), "")])
        assert outbox.due("b") == []
        assert outbox.keys("b") == set()
        assert outbox.discard_staged("b") == 1
        assert outbox.counts("b") == {}


def test_stage_twice_keeps_the_first_frozen_bytes(box: Outbox) -> None:
    changed = message("K0", "other@example.org")
    box.stage("b", [(0, changed, "")])
    assert box.release("b") == 0
    row = box.due("b")[0]
    assert row.message.recipients == ("r0@example.org",)


def test_claims_are_conditional_and_need_the_batch(box: Outbox) -> None:
    owner = new_owner()
    with pytest.raises(JournalError):
        box.acquire("nope", owner)
    assert box.apply(owner, [("b", "K0")], []) == [False]  # not the batch's owner yet
    box.acquire("b", owner)
    assert box.apply(owner, [("b", "K0"), ("b", "K0")], []) == [True, False]
    assert box.counts("b") == {RowState.SENDING: 1, RowState.QUEUED: 2}


def test_a_selection_larger_than_sqlites_variable_limit(box: Outbox) -> None:
    """Selected rows are one parameter: 300,000 keys (SQLite allows 250,000 variables here)."""
    keys = ["K0", "K2", *(f"absent-{i}" for i in range(300_000))]
    assert box.counts("b", keys) == {RowState.QUEUED: 2}
    assert box.counts("b", []) == {}
    owner = new_owner()
    box.acquire("b", owner)
    box.apply(owner, [("b", "K0"), ("b", "K1")], [])
    box.release_owner("b", owner)
    assert box.acquire("b", new_owner()) == 2  # both left 'sending': now 'unknown'
    assert box.requeue("b", RowState.UNKNOWN, keys) == 1  # K0 only: K1 was not selected
    assert box.counts("b") == {RowState.QUEUED: 2, RowState.UNKNOWN: 1}


def test_a_live_owner_makes_the_batch_busy(box: Outbox) -> None:
    box.acquire("b", new_owner())
    with pytest.raises(BatchBusyError, match="another mailkit"):
        box.acquire("b", new_owner())


def test_a_dead_owner_is_taken_over_and_its_sending_rows_become_unknown(box: Outbox) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = f"{os.uname().nodename}:{child.stdout.strip()}:abc"
    box.acquire("b", dead)
    box.apply(dead, [("b", "K1")], [])
    assert box.acquire("b", new_owner()) == 1
    assert box.counts("b") == {RowState.UNKNOWN: 1, RowState.QUEUED: 2}
    assert box.history("b", "K1")[-1][1] == "unknown"


def test_results_recipients_history_and_requeue_keep_id_and_bytes(box: Outbox) -> None:
    owner = new_owner()
    box.acquire("b", owner)
    box.apply(owner, [("b", "K0"), ("b", "K1")], [])
    refused = RecipientResult("r1@example.org", False, 550, "5.1.1 no such user")
    results = [
        ("b", "K0", RowState.UNKNOWN, SendResult(SendStatus.UNKNOWN, "<K0@firma.example.com>",
         phase="data", reply="lost"), (), 0.0, False),
        ("b", "K1", RowState.FAILED, SendResult(SendStatus.FAILED, "<K1@firma.example.com>",
         (refused,), 550, "5.1.1 no such user", "rcpt"), (), 0.0, False),
    ]  # fmt: skip
    box.apply(owner, [], results)
    rows = {r["key"]: r for r in box.report("b")}
    assert rows["K1"]["refused"] == "r1@example.org: 550 5.1.1 no such user"
    assert rows["K0"]["state"] == "unknown"
    sql = "SELECT data, message_id FROM messages JOIN payloads USING(batch, key) WHERE key='K0'"
    before = box.db.execute(sql).fetchone()
    assert box.requeue("b", RowState.UNKNOWN, ["K0"]) == 1
    after = box.db.execute(sql).fetchone()
    assert before == after
    assert [h[1] for h in box.history("b", "K0")] == ["unknown", "queued"]


def test_purge_drops_old_payloads_only_of_finished_rows(box: Outbox) -> None:
    owner = new_owner()
    box.acquire("b", owner)
    box.apply(owner, [("b", "K0")], [])
    sent = SendResult(SendStatus.SENT, "<K0@firma.example.com>", (), 250, "OK", "data")
    box.apply(owner, [], [("b", "K0", RowState.SENT, sent, (), 0.0, True)])
    box.db.execute("UPDATE messages SET updated=? WHERE key='K0'", (time.time() - 40 * 86400,))
    assert box.purge(30) == 1
    kept = {k for (k,) in box.db.execute("SELECT key FROM payloads")}
    assert kept == {"K1", "K2"}
    assert next(box.report("b"))["state"] == "sent"  # the log stays


def test_pending_recipients_survive_a_restart(box: Outbox) -> None:
    owner = new_owner()
    box.acquire("b", owner)
    box.apply(owner, [("b", "K2")], [])
    partial = SendResult(SendStatus.PARTIAL, "<K2@firma.example.com>", (), 250, "OK", "data")
    box.apply(owner, [], [("b", "K2", RowState.DEFERRED, partial, ("x@example.org",), 0.0, True)])
    row = next(r for r in box.due("b") if r.key == "K2")
    assert row.message.recipients == ("x@example.org",)
    raw = box.db.execute("SELECT recipients, sent_at FROM messages WHERE key='K2'").fetchone()
    assert json.loads(raw[0]) == ["r2@example.org"]
    assert raw[1] is not None


def test_refills_come_in_order_and_never_sort_the_whole_queue(box: Outbox) -> None:
    """due() walks each state in index order and reads payloads only of the rows it takes: no
    query sorts every waiting row (one that did made a 100,000-row batch quadratic)."""
    box.ensure_batch("B", "job")
    box.stage("B", [(i, message(f"K{i:03d}", "a@example.com"), "") for i in range(30)])
    box.release("B")
    executed: list[str] = []
    box.db.set_trace_callback(executed.append)
    rows: list[str] = []
    after = -1
    while taken := box.due("B", after, limit=7):
        rows += [r.key for r in taken]
        after = taken[-1].seq
    box.db.set_trace_callback(None)
    assert rows == [f"K{i:03d}" for i in range(30)]
    for sql in executed:
        plan = " ".join(str(step[-1]) for step in box.db.execute("EXPLAIN QUERY PLAN " + sql))
        if "payloads" in sql:  # only the rows taken: at most `limit` keys
            assert 0 < sql.count("'K") <= 7, sql
        else:
            assert "TEMP B-TREE" not in plan, (sql, plan)


def test_refills_of_chosen_rows_find_them_however_far_apart(box: Outbox) -> None:
    box.ensure_batch("C", "job")
    box.stage("C", [(i, message(f"K{i:04d}", "a@example.com"), "") for i in range(2500)])
    box.release("C")
    chosen = frozenset({"K0003", "K1200", "K1201", "K2499", "nie-ma"})
    found: list[str] = []
    after = -1
    while taken := box.due("C", after, limit=2, keys=chosen):
        found += [r.key for r in taken]
        after = taken[-1].seq
    assert found == ["K0003", "K1200", "K1201", "K2499"]
    assert [r.key for r in box.due("C", keys=["K2499", "K0003"])] == ["K0003", "K2499"]


def test_what_freezing_knew_of_the_bytes_comes_back_with_them(tmp_path: Path) -> None:
    """Sending skips its scans only for rows the outbox says are CRLF (and free of dots)."""
    kinds = {"U": (False, False), "C": (True, False), "T": (True, True)}
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.ensure_batch("b", "job")
        outbox.stage("b", [
            (i, replace(message(k, "r@example.org"), crlf=c, transparent=t), "")
            for i, (k, (c, t)) in enumerate(kinds.items())
        ])  # fmt: skip
        outbox.release("b")
        got = {r.key: (r.message.crlf, r.message.transparent) for r in outbox.due("b")}
    assert got == kinds


def test_an_outbox_from_an_earlier_mailkit_is_brought_up_to_date(tmp_path: Path) -> None:
    """Its payloads table has no ``wire`` column: the column is added and old rows are sent
    the careful way (nothing known of their bytes)."""
    path = tmp_path / "old.db"
    with Outbox(path) as outbox:
        outbox.ensure_batch("b", "job")
        outbox.stage("b", [(0, replace(message("K0", "r@example.org"), crlf=True), "")])
        outbox.release("b")
        outbox.db.execute("ALTER TABLE payloads DROP COLUMN wire")
    with Outbox(path) as outbox:
        (row,) = outbox.due("b")
        assert (row.message.crlf, row.message.transparent) == (False, False)
        assert row.message.data == message("K0").data
