"""Preflight and journal on forked helpers: the same rows, findings and journal as one process."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from sendkit import people, write_job
from smtp_server import FaultServer
from test_send_cli import SMTP, mailkit

from mailkit import parallel_enqueue
from mailkit.cli.common import EXIT_FINDINGS, EXIT_OK
from mailkit.errors import JournalError
from mailkit.i18n import language
from mailkit.job import Job, load_job
from mailkit.merge import prepare
from mailkit.outbox import Outbox
from mailkit.sending import SendOutcome, SendRequest, SendRun

FILES = '[destination]\nkind = "files"\nfolder = "out"\n'


def files_job(tmp_path: Path, rows: list[list[str]]) -> Job:
    return load_job(write_job(tmp_path, rows, rest=FILES))


def send(job: Job, tmp_path: Path, processes: int, **kw: Any) -> SendOutcome:
    request = SendRequest(outbox=tmp_path / f"outbox-{processes}.db", processes=processes)
    return asyncio.run(SendRun(job, request, **kw).run())


@pytest.fixture(autouse=True)
def helpers_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every test here must really fork (pytest runs it without other threads)."""
    assert threading.active_count() == 1, "a thread left running stops the helpers from forking"
    made: list[int] = []
    real = parallel_enqueue.StageHelpers.__init__

    def counting(self: Any, count: int, *args: Any, **kw: Any) -> None:
        made.append(count)
        real(self, count, *args, **kw)

    monkeypatch.setattr(parallel_enqueue.StageHelpers, "__init__", counting)
    return made


def test_two_processes_journal_what_one_does(tmp_path: Path, helpers_made: list[int]) -> None:
    job = files_job(tmp_path, people(31))
    one = send(job, tmp_path, 1)
    two = send(job, tmp_path, 2)
    assert helpers_made == [2]
    strip = lambda o: [(r.key, r.line, r.to, r.subject, r.size) for r in o.enqueued.report.rows]  # noqa: E731
    assert strip(two) == strip(one)
    assert len(strip(two)) == 31
    assert two.enqueued.report.findings == one.enqueued.report.findings
    assert (two.enqueued.added, two.enqueued.kept) == (31, 0)
    assert two.report is not None and two.report.sent_now == 31
    with Outbox(tmp_path / "outbox-2.db") as box:
        rows = list(box.report(job.name))
    assert [r["key"] for r in rows] == [f"P{i:03d}" for i in range(1, 32)]  # file order kept
    again = send(job, tmp_path, 2)
    assert (again.enqueued.added, again.enqueued.kept) == (0, 31)


def test_errors_in_every_share_block_the_whole_batch(
    tmp_path: Path, helpers_made: list[int]
) -> None:
    rows = people(12)
    rows[2][2] = "nie-adres"  # P002: position 1, the helper's share
    rows[3][2] = ""  # P003: position 2, this process's share
    job = files_job(tmp_path, rows)
    one = send(job, tmp_path, 1)
    two = send(job, tmp_path, 2)
    assert helpers_made == [2]
    assert not two.enqueued.ok and two.report is None
    assert two.enqueued.report.findings == one.enqueued.report.findings
    assert [f.row for f in two.enqueued.report.errors] == ["P002", "P003"]
    assert two.enqueued.report.total == one.enqueued.report.total
    with Outbox(tmp_path / "outbox-2.db") as box:
        assert box.counts(job.name) == {}  # nothing staged is left behind
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_helper_that_dies_stops_the_run_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpers_made: list[int]
) -> None:
    real = parallel_enqueue.enqueue

    def dying(*args: Any, share: tuple[int, int], **kw: Any) -> Any:
        if share[0] == 1:
            os._exit(3)  # the forked helper: as if killed mid-check
        return real(*args, share=share, **kw)

    monkeypatch.setattr(parallel_enqueue, "enqueue", dying)
    job = files_job(tmp_path, people(8))
    with language("en"), pytest.raises(JournalError, match=r"unexpectedly \(exit code 3\)"):
        send(job, tmp_path, 2)
    assert helpers_made == [2]
    with Outbox(tmp_path / "outbox-2.db") as box:
        assert box.counts(job.name) == {}


def test_cancel_while_checking_releases_nothing(tmp_path: Path, helpers_made: list[int]) -> None:
    job = files_job(tmp_path, people(900))
    run = SendRun(job, SendRequest(outbox=tmp_path / "o.db", processes=2))
    run.check_progress = lambda _done, _total: run.cancel()
    outcome = asyncio.run(run.run())
    assert helpers_made == [2]
    assert outcome.enqueued.report.cancelled and outcome.report is None
    with Outbox(tmp_path / "o.db") as box:
        assert box.counts(job.name) == {}


def test_when_helpers_are_used(tmp_path: Path) -> None:
    merge = prepare(files_job(tmp_path, people(3)))
    assert parallel_enqueue.helper_count(None, merge, 999) == 1  # small: not worth a fork
    assert parallel_enqueue.helper_count(1, merge, 5000) == 1
    assert parallel_enqueue.helper_count(4, merge, 3) == 3  # never more than rows
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:  # another thread (a Jupyter kernel has several): fork is not safe, one process
        assert not parallel_enqueue.fork_safe()
        assert parallel_enqueue.helper_count(2, merge, 5000) == 1
    finally:
        stop.set()
        busy.join()


def test_mailkit_send_with_two_processes_delivers_every_row_once(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = write_job(tmp_path, people(40), rest=SMTP.format(port=server.port, connections=3))
        result = mailkit("send", job, "--yes", "--processes", "2")
        stored = server.stored
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert sorted(r for s in stored for r in s.rcpt_tos) == sorted(
        f"osoba{i}@example.org" for i in range(1, 41)
    )
    assert len({s.data.split(b"Message-ID: ")[1][:40] for s in stored}) == 40


def test_mailkit_send_with_two_processes_names_the_bad_row(tmp_path: Path) -> None:
    rows = people(6)
    rows[4][2] = "nie-adres"
    with FaultServer(tmp=tmp_path) as server:
        job = write_job(tmp_path, rows, rest=SMTP.format(port=server.port, connections=2))
        result = mailkit("send", job, "--yes", "--processes", "2")
    assert result.returncode == EXIT_FINDINGS
    assert "P004" in result.stdout
    assert server.handler.commands["MAIL"] == 0
