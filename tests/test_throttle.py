"""Sending limits per account and the whole-batch pause, on a controlled clock and for real."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sendkit import journal, load, people, send, smtp_settings, write_job
from smtp_server import FaultServer

from mailkit.batch import BatchOptions
from mailkit.config import PROVIDER_PRESETS, RateLimits
from mailkit.outbox import Outbox, RowState
from mailkit.throttle import BatchPause, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_per_minute_window_counts_recipients() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimits(per_minute=3), clock=clock)
    for _n in range(3):
        assert limiter.wait_time(1) == 0
        limiter.take(1)
    assert limiter.wait_time(1) == 60
    clock.now += 30
    assert limiter.wait_time(2) == 30
    clock.now += 30
    assert limiter.wait_time(3) == 0


def test_history_from_earlier_runs_counts_against_the_day() -> None:
    clock = Clock()
    history = [(clock.now - 3600, 9), (clock.now - 90_000, 50)]  # the second is older than a day
    limiter = RateLimiter(RateLimits(per_day=10), history, clock=clock)
    assert limiter.wait_time(1) == 0
    assert limiter.wait_time(2) == 86400 - 3600


def test_a_message_larger_than_the_limit_goes_alone() -> None:
    limiter = RateLimiter(RateLimits(per_minute=2), clock=Clock())
    assert limiter.wait_time(5) == 0


def test_acquire_gives_up_when_the_wait_is_too_long() -> None:
    limiter = RateLimiter(RateLimits(per_hour=1), clock=Clock())
    assert asyncio.run(limiter.acquire(1)) == 0
    assert asyncio.run(limiter.acquire(1, max_wait=60)) == 3600


def test_pause_doubles_and_resets() -> None:
    clock = Clock()
    pause = BatchPause(2, 10, clock=clock)
    assert [pause.trip() for _n in range(4)] == [2, 4, 8, 10]
    assert pause.remaining == 10
    pause.ok()
    assert pause.trip() == 2


def test_presets_exist_for_common_providers() -> None:
    assert PROVIDER_PRESETS["gmail"].recipients_per_message == 100
    assert PROVIDER_PRESETS["exchange-online"].connections == 3


def test_limit_reached_stops_the_run_rows_stay_queued(tmp_path: Path) -> None:
    job = load(write_job(tmp_path, people(5)))
    with Outbox(tmp_path / "o.db") as outbox, FaultServer(tmp=tmp_path) as server:
        journal(job, outbox)
        options = BatchOptions(connections=2, limits=RateLimits(per_hour=3), max_wait=1)
        report = send(outbox, job.name, smtp_settings(server), options)
    assert report.stopped
    assert "limit" in report.reason
    assert report.counts == {RowState.SENT: 3, RowState.QUEUED: 2}
    assert len(server.stored) == 3


def test_recipients_per_message_splits_transactions(tmp_path: Path) -> None:
    rows = people(1)
    rows[1][3] = "a@example.org, b@example.org"
    job = load(write_job(tmp_path, rows))
    with Outbox(tmp_path / "o.db") as outbox, FaultServer(tmp=tmp_path) as server:
        journal(job, outbox)
        options = BatchOptions(limits=RateLimits(recipients_per_message=2))
        report = send(outbox, job.name, smtp_settings(server), options)
    assert report.counts == {RowState.SENT: 1}
    assert [len(s.rcpt_tos) for s in server.stored] == [2, 1]
