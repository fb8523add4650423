"""``mailkit send``, ``status`` and ``sink`` as a user runs them; SIGKILL mid-batch, then resume."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from sendkit import people, write_job
from smtp_server import FaultServer

from mailkit.batchtypes import Progress
from mailkit.cli.common import EXIT_FAILED, EXIT_OK, EXIT_STOPPED, EXIT_UNKNOWN
from mailkit.job import load_job
from mailkit.outbox import Outbox, RowState
from mailkit.sending import SendRequest, SendRun
from mailkit.sendspec import SinkSpec
from mailkit.sink import list_messages

SMTP = """
[destination]
kind = "smtp"
password_env = "TEST_SMTP_PASSWORD"

[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout_ms = 2000

[batch]
connections = {connections}
max_attempts = 2
"""


def mailkit(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailkit", "--lang", "en", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(autouse=True)
def outbox_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "outbox.sqlite3"
    monkeypatch.setenv("MAILKIT_OUTBOX", str(path))
    return path


def test_send_to_the_sink_then_nothing_twice_then_status_export(tmp_path: Path) -> None:
    rows = people(3)
    rows[1][0] = "=HYPERLINK(1)"  # a row key that a spreadsheet would run as a formula
    job = write_job(
        tmp_path, rows, rest='[destination]\nkind = "sink"\nfolder = "sink"\nport = 0\n'
    )
    first = mailkit("send", job)
    assert first.returncode == EXIT_OK, first.stderr + first.stdout
    assert "3 row(s) added" in first.stdout
    assert "sent: 3" in first.stdout
    second = mailkit("send", job)
    assert second.returncode == EXIT_OK
    assert "0 row(s) added, 3 already" in second.stdout
    assert len(list_messages(tmp_path / "sink")) == 3
    listed = mailkit("sink", "--list", "--folder", tmp_path / "sink")
    assert listed.stdout.count("Pasek dla") == 3
    status = mailkit("status", job, "--export", tmp_path / "log.csv")
    assert status.returncode == EXIT_OK
    assert "sent: 3" in status.stdout
    with (tmp_path / "log.csv").open(encoding="utf-8-sig") as fh:
        keys = [row["key"] for row in csv.DictReader(fh)]
    assert keys == ["'=HYPERLINK(1)", "P002", "P003"]
    assert mailkit("status", job, "--export", tmp_path / "log.xlsx").returncode == EXIT_OK
    sheet = openpyxl.load_workbook(tmp_path / "log.xlsx").active
    assert sheet is not None
    cell = sheet["A2"]
    assert cell.value == "'=HYPERLINK(1)"
    assert cell.data_type == "s"


def test_real_smtp_needs_confirmation(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = write_job(tmp_path, people(2), rest=SMTP.format(port=server.port, connections=1))
        refused = mailkit("send", job)
        assert refused.returncode == EXIT_STOPPED
        assert "--yes" in refused.stderr
        assert not server.stored
        done = mailkit("send", job, "--yes")
    assert done.returncode == EXIT_OK, done.stderr
    assert len(server.stored) == 2


def test_exit_codes_for_failed_and_unknown(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        job = write_job(tmp_path, people(3), rest=SMTP.format(port=server.port, connections=1))
        server.handler.refuse["osoba1@example.org"] = "550 5.1.1 no such user"
        server.handler.drop = ["before_dot"]
        result = mailkit("send", job, "--yes", "--row", "P001,P002")
        assert result.returncode == EXIT_UNKNOWN, result.stdout + result.stderr
        assert "--resend-unknown" in result.stdout
        resent = mailkit("send", job, "--yes", "--row", "P002", "--resend-unknown")
        assert resent.returncode == EXIT_OK, resent.stdout
        failed = mailkit("send", job, "--yes", "--row", "P001")
        assert failed.returncode == EXIT_FAILED
        server.handler.refuse.clear()  # the mailbox was fixed: the operator resends the row
        fixed = mailkit("send", job, "--yes", "--row", "P001", "--resend-failed")
        assert fixed.returncode == EXIT_OK, fixed.stdout
        assert Counter(r for s in server.stored for r in s.rcpt_tos)["osoba1@example.org"] == 1


def test_wrong_password_stops_before_anything(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "zle-haslo")
    with FaultServer(tls="starttls", users={"kadry": "dobre"}, tmp=tmp_path) as server:
        tls = f'security = "starttls"\nusername = "kadry"\nca_bundle = "{server.ca_bundle}"'
        rest = SMTP.format(port=server.port, connections=1).replace('security = "none"', tls)
        rest = rest.replace('host = "127.0.0.1"', 'host = "localhost"')
        job = write_job(tmp_path, people(2), rest=rest)
        result = mailkit("send", job, "--yes")
    assert result.returncode == EXIT_STOPPED
    assert "refused the login of user kadry" in result.stderr
    assert "zle-haslo" not in result.stderr + result.stdout
    assert server.handler.commands["MAIL"] == 0


@pytest.mark.parametrize(("tls", "security"), [("starttls", "starttls"), ("implicit", "tls")])
def test_send_over_tls_with_a_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls: str, security: str
) -> None:
    """The command line's loop (uvloop where installed) does TLS, login and DATA end to end."""
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "dobre")
    with FaultServer(tls=tls, users={"kadry": "dobre"}, tmp=tmp_path) as server:
        settings = f'security = "{security}"\nusername = "kadry"\nca_bundle = "{server.ca_bundle}"'
        rest = SMTP.format(port=server.port, connections=2).replace('security = "none"', settings)
        rest = rest.replace('host = "127.0.0.1"', 'host = "localhost"')
        job = write_job(tmp_path, people(3), rest=rest)
        result = mailkit("send", job, "--yes")
        stored = server.stored
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert sorted(r for s in stored for r in s.rcpt_tos) == [
        f"osoba{i}@example.org" for i in range(1, 4)
    ]
    assert "dobre" not in result.stdout + result.stderr


@pytest.mark.slow
def test_sigkill_mid_batch_then_resume_every_message_exactly_once(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        server.handler.stall["DATA"] = [0.04] * 1000
        job = write_job(tmp_path, people(40), rest=SMTP.format(port=server.port, connections=3))
        cmd = [sys.executable, "-m", "mailkit", "--lang", "en", "send", str(job), "--yes"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(server.stored) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert 8 <= len(server.stored) < 40, "the kill should land mid-batch"
        resumed = mailkit("send", job, "--yes")
        assert resumed.returncode in (EXIT_OK, EXIT_UNKNOWN), resumed.stdout + resumed.stderr
        ids = Counter(s.message_id for s in server.stored)
        assert max(ids.values()) == 1  # nothing twice without the operator asking
        # The operator checks the unknown rows against the server and resends the missing ones.
        with Outbox(os.environ["MAILKIT_OUTBOX"]) as box:
            unknown = [r for r in box.report("Paski testowe") if r["state"] == "unknown"]
        missing = [r["key"] for r in unknown if r["message_id"] not in ids]
        if missing:
            again = mailkit("send", job, "--yes", "--resend-unknown", "--row", ",".join(missing))
            assert again.returncode == EXIT_OK, again.stdout
    final = Counter(s.message_id for s in server.stored)
    assert len(final) == 40
    assert set(final.values()) == {1}


def test_sample_jobs_send_to_the_local_sink(sample_jobs: Path) -> None:
    for name in ("overdue.toml", "payslips.toml"):
        dest = load_job(sample_jobs / name).destination
        assert dest.kind == "sink"
        assert isinstance(dest.spec, SinkSpec)
        assert dest.spec.folder.resolve() == (sample_jobs / "../../out/sink").resolve()


def test_dsn_of_the_job_reaches_the_server_and_cancel_stops_cleanly(tmp_path: Path) -> None:
    with FaultServer(tmp=tmp_path) as server:
        server.handler.dsn = True
        server.handler.stall["DATA"] = [0.05] * 100
        rest = SMTP.format(port=server.port, connections=1)
        rest += '\n[batch.dsn]\nnotify = ["OnFailure"]\nret = "FULL"\n'
        job = load_job(write_job(tmp_path, people(20), rest=rest))
        seen: list[int] = []

        def progress(p: Progress) -> None:
            seen.append(p.sent_now)
            if p.sent_now >= 3:
                run.cancel()

        run = SendRun(job, SendRequest(outbox=tmp_path / "o.db"), confirm=bool, progress=progress)
        outcome = asyncio.run(run.run())
    report = outcome.report
    assert report is not None
    assert report.stopped
    assert report.reason == "cancelled by the user"
    assert report.counts.get(RowState.UNKNOWN, 0) == 0
    assert report.counts[RowState.SENT] == len(server.stored) < 20
    assert report.counts[RowState.QUEUED] == 20 - len(server.stored)
    assert all("NOTIFY=FAILURE" in s.rcpt_options for s in server.stored)
    assert all("RET=FULL" in s.mail_options for s in server.stored)
