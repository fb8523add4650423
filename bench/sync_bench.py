"""Sync benchmark: a real Dovecot inbox of 10,000 messages, 2,000 of them reports and replies.

    python bench/sync_bench.py [--messages 10000] [--reports 2000]

Journals a batch of ``--reports`` rows (rendered and "sent" through the memory transport, so the
outbox holds real Message-IDs and recipients), fills a Dovecot INBOX by IMAP MULTIAPPEND with
DSNs (delivered/delayed/failed), free-text bounces, auto-replies and replies about those rows
plus ordinary mail, then times a first sync and a second one with nothing new.
Targets (issue 7): first sync < 60 s, second < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from dovecot import Dovecot  # noqa: E402
from reports import auto_reply, dsn, ordinary, original_headers, plain_bounce, reply  # noqa: E402
from sendkit import people, write_job  # noqa: E402

from mailkit.imap import ImapClient  # noqa: E402
from mailkit.job import load_job  # noqa: E402
from mailkit.sending import SendRequest, SendRun  # noqa: E402
from mailkit.syncing import SyncOptions, SyncRun  # noqa: E402
from mailkit.transports.smtp import xtext  # noqa: E402


def sent_batch(folder: Path, rows: int) -> tuple[Path, dict[str, str]]:
    """A journaled batch of ``rows`` sent through the memory destination: address -> id."""
    job_path = write_job(folder, people(rows), rest='\n[destination]\nkind = "memory"\n')
    outbox = folder / "outbox.sqlite3"
    asyncio.run(SendRun(load_job(job_path), SendRequest(outbox=outbox)).run())
    import sqlite3  # noqa: PLC0415

    db = sqlite3.connect(outbox)
    ids = {rcpts.strip('[]"'): mid for mid, rcpts in db.execute(
        "SELECT message_id, recipients FROM messages")}  # fmt: skip
    db.close()
    return outbox, ids


def mailbox(ids: dict[str, str], total: int) -> list[bytes]:
    """One report or answer per sent row, in five kinds, then ordinary mail up to ``total``."""
    out = []
    for n, (address, mid) in enumerate(sorted(ids.items())):
        kind = n % 5
        if kind == 0:
            out.append(dsn(action="delivered", recipient=address, status="2.0.0",
                           envid=xtext(mid.strip("<>"))))  # fmt: skip
        elif kind == 1:
            out.append(dsn(action="failed", recipient=address, status="5.1.1",
                           diagnostic="550 5.1.1 user unknown",
                           original_headers=original_headers(mid, address)))  # fmt: skip
        elif kind == 2:
            out.append(plain_bounce(mid, address))
        elif kind == 3:
            out.append(auto_reply(mid, address))
        else:
            out.append(reply(mid, address))
    out += [ordinary(f"Newsletter {n}") for n in range(total - len(out))]
    return out


def fill(server: Dovecot, messages: list[bytes]) -> float:
    started = time.monotonic()
    with ImapClient(server.settings(timeout_ms=120_000)) as imap:
        for start in range(0, len(messages), 500):
            imap.client.multiappend("INBOX", messages[start : start + 500])
    return time.monotonic() - started


def timed_sync(server: Dovecot, outbox: Path) -> tuple[float, object]:
    run = SyncRun("bench", server.settings(timeout_ms=120_000), outbox, SyncOptions())
    started = time.monotonic()
    report = asyncio.run(run.run())
    return time.monotonic() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp  # the mailer log and settings go to a throw-away place
        outbox, ids = sent_batch(Path(tmp), args.reports)
        messages = mailbox(ids, args.messages)
        with Dovecot() as server:
            print(f"filled {len(messages)} messages in {fill(server, messages):.1f} s")
            first, report = timed_sync(server, outbox)
            print(f"first sync:  {first:.1f} s  {report}")
            second, again = timed_sync(server, outbox)
            print(f"second sync: {second:.2f} s  {again}")
    verdict = "OK" if first < 60 and second < 2 else "TOO SLOW"
    print(f"{verdict}: first {first:.1f} s (< 60), second {second:.2f} s (< 2)")


if __name__ == "__main__":
    main()
