"""Reading the answers back from a real Dovecot about a batch a real SMTP server received."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dovecot import Dovecot
from reports import auto_reply, dsn, ordinary, original_headers, plain_bounce, reply
from sendkit import people, write_job
from smtp_server import FaultHandler, FaultServer

from mailkit.accounts import Account
from mailkit.accountsync import set_sync, sync_states
from mailkit.cli import main
from mailkit.config import ImapSettings, Secret, Security, SmtpSettings
from mailkit.errors import AuthError
from mailkit.imap import ImapClient
from mailkit.job import load_job
from mailkit.logview import bounced_rows, delivery_rows, replies, unmatched_reports
from mailkit.outbox import Outbox
from mailkit.saved_accounts import save_account
from mailkit.sending import SendRequest, SendRun
from mailkit.store import Scope, SettingsStore
from mailkit.syncing import SyncOptions, SyncProgress, SyncReport, SyncRun

DSN_JOB = """
[batch.dsn]
notify = ["OnSuccess", "OnFailure", "Delay"]

[destination]
kind = "smtp"

[destination.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


class Sent:
    """A batch really sent to a DSN-capable SMTP server: per recipient its Message-ID and ENVID."""

    def __init__(self, tmp: Path, rows: int = 7) -> None:
        self.outbox = tmp / "outbox.sqlite3"
        with FaultServer(FaultHandler(dsn=True), tmp=tmp) as server:
            self.job_path = write_job(tmp, people(rows), rest=DSN_JOB.format(port=server.port))
            job = load_job(self.job_path)
            run = SendRun(job, SendRequest(outbox=self.outbox), confirm=bool)
            outcome = asyncio.run(run.run())
        assert outcome.report is not None and outcome.report.outcome == "sent"
        self.batch = run.batch
        self.ids: dict[str, str] = {}
        self.envids: dict[str, str] = {}
        for stored in server.stored:
            (rcpt,) = stored.rcpt_tos
            assert stored.message_id is not None
            self.ids[rcpt] = stored.message_id
            envid = [o for o in stored.mail_options if o.upper().startswith("ENVID=")]
            self.envids[rcpt] = envid[0].split("=", 1)[1]

    def to(self, n: int) -> str:
        return f"osoba{n}@example.org"


def inbox_for(sent: Sent) -> list[bytes]:
    """The reports, answers and other mail an inbox holds after the batch."""
    r = sent.to
    return [
        dsn(action="delivered", recipient=r(1), status="2.0.0", envid=sent.envids[r(1)]),
        dsn(action="delayed", recipient=r(2), status="4.4.1", diagnostic="451 4.4.1 timeout",
            original_headers=original_headers(sent.ids[r(2)], r(2))),
        dsn(action="failed", recipient=r(3), status="5.1.1", envid=sent.envids[r(3)],
            diagnostic="550 5.1.1 <osoba3@example.org>: Recipient address rejected: User unknown",
            original_headers=original_headers(sent.ids[r(3)], r(3))),
        plain_bounce(sent.ids[r(4)], r(4)),
        auto_reply(sent.ids[r(5)], r(5)),
        reply(sent.ids[r(6)], r(6)),
        dsn(action="failed", recipient="obcy@example.org", status="5.1.1",
            envid="unknown+40nowhere.test", diagnostic="550 5.1.1 no such user"),
        ordinary(),
    ]  # fmt: skip


def fill(dovecot: Dovecot, folder: str, messages: list[bytes], *, fresh: bool = True) -> int:
    """Put ``messages`` in ``folder`` (created anew when ``fresh``); returns its UIDVALIDITY."""
    with ImapClient(dovecot.settings()) as imap:
        if fresh and imap.client.folder_exists(folder):
            imap.client.delete_folder(folder)
        if not imap.client.folder_exists(folder):
            imap.client.create_folder(folder)
        for data in messages:
            imap.append(folder, data)
        return int(imap.select(folder)[b"UIDVALIDITY"])


def sync(dovecot: Dovecot, sent: Sent, folder: str, **options: str) -> SyncReport:
    run = SyncRun("kadry", dovecot.settings(), sent.outbox, SyncOptions(folder=folder, **options))
    return asyncio.run(run.run())


def by_key(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["key"]): r for r in rows}


def test_reports_are_matched_to_rows_and_recipients(tmp_path: Path, dovecot: Dovecot) -> None:
    sent = Sent(tmp_path)
    fill(dovecot, "T1", inbox_for(sent))
    report = sync(dovecot, sent, "T1")
    assert (report.seen, report.found, report.matched, report.unmatched) == (8, 7, 6, 1)
    assert report.outcomes == {
        "delivered": 1, "delayed": 1, "bounced": 2, "auto-replied": 1, "replied": 1,
    }  # fmt: skip
    rows = by_key(delivery_rows(sent.batch, outbox=sent.outbox))
    assert rows["P001"]["delivery"] == "delivered"
    assert rows["P002"]["delivery"] == "delayed"
    assert rows["P003"]["delivery"] == "bounced"
    assert rows["P003"]["delivery_status"] == "5.1.1"
    assert "user unknown" in str(rows["P003"]["reason"])
    assert rows["P004"]["delivery"] == "bounced"
    assert rows["P005"]["auto_replied"] == sent.to(5)
    assert rows["P006"]["replied"] == sent.to(6)
    assert rows["P006"]["delivery"] == "delivered"  # an answer proves it arrived
    assert rows["P007"]["delivery"] == ""
    assert all(r["state"] == "sent" for r in rows.values())  # sending states stay as they were
    bounced = by_key(bounced_rows(sent.batch, outbox=sent.outbox))
    assert set(bounced) == {"P003", "P004"}
    answers = replies(sent.batch, outbox=sent.outbox)
    assert {(a["key"], a["kind"]) for a in answers} == {("P005", "auto-reply"), ("P006", "reply")}
    (lost,) = unmatched_reports(outbox=sent.outbox)
    assert lost["recipient"] == "obcy@example.org"
    assert "nothing went to" in str(lost["note"])
    # Nothing was marked read, moved or deleted.
    with ImapClient(dovecot.settings()) as imap:
        imap.select("T1")
        flags = imap.fetch(imap.search("ALL"), ["FLAGS"])
    assert len(flags) == 8
    assert not any(b"\\Seen" in f[b"FLAGS"] for f in flags.values())


def _evidence(outbox: Path) -> list[tuple[object, ...]]:
    with Outbox(outbox) as box:
        return sorted(
            box.db.execute("SELECT report_id, recipient, outcome, batch, key FROM evidence")
        )


def test_incremental_idempotent_and_uidvalidity_change(tmp_path: Path, dovecot: Dovecot) -> None:
    sent = Sent(tmp_path)
    messages = inbox_for(sent)
    first_validity = fill(dovecot, "T2", messages[:4])
    assert sync(dovecot, sent, "T2").seen == 4
    fill(dovecot, "T2", messages[4:], fresh=False)
    again = sync(dovecot, sent, "T2")
    assert (again.seen, again.found, again.reset) == (4, 3, False)
    before = _evidence(sent.outbox)
    nothing = sync(dovecot, sent, "T2")
    assert (nothing.seen, nothing.found) == (0, 0)
    assert _evidence(sent.outbox) == before
    # The folder is made anew (another UIDVALIDITY) with the same mail: read again, same result.
    validity = first_validity
    while validity == first_validity:
        time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        validity = fill(dovecot, "T2", messages)
    renumbered = sync(dovecot, sent, "T2")
    assert renumbered.reset
    assert renumbered.seen == 8
    assert _evidence(sent.outbox) == before


def test_move_only_when_told_and_never_a_persons_reply(tmp_path: Path, dovecot: Dovecot) -> None:
    sent = Sent(tmp_path)
    fill(dovecot, "T3", inbox_for(sent))
    report = sync(dovecot, sent, "T3", move_to="T3-raporty")
    assert report.moved == 5  # matched DSNs, the bounce and the auto-reply
    with ImapClient(dovecot.settings()) as imap:
        imap.select("T3")
        left = imap.fetch(imap.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        imap.select("T3-raporty")
        moved = imap.search("ALL")
    subjects = [str(v) for f in left.values() for k, v in f.items() if k.startswith(b"BODY")]
    assert len(moved) == 5
    assert len(left) == 3  # the reply, the unmatched report and the newsletter
    assert any("Re: Pasek" in s for s in subjects)


def test_progress_and_cancel_keep_what_was_read(tmp_path: Path, dovecot: Dovecot) -> None:
    sent = Sent(tmp_path)
    fill(dovecot, "T4", inbox_for(sent))
    seen: list[tuple[int, int]] = []

    def on_progress(p: SyncProgress) -> None:
        seen.append((p.done, p.total))
        run.cancel()  # from the loop's thread, as a Cancel button does

    run = SyncRun("kadry", dovecot.settings(), sent.outbox, SyncOptions("T4", chunk=3),
                  progress=on_progress)  # fmt: skip
    first = asyncio.run(run.run())
    assert first.cancelled and first.seen == 3 and seen == [(3, 8)]
    rest = sync(dovecot, sent, "T4")
    assert first.seen + rest.seen == 8 and not rest.cancelled
    assert first.found + rest.found == 7


def _account(dovecot: Dovecot, name: str) -> Account:
    imap = ImapSettings(
        host="localhost", port=dovecot.tls_port, security=Security.TLS,
        username=dovecot.user, ca_bundle=dovecot.ca_bundle, timeout_ms=5000,
    )  # fmt: skip
    smtp = SmtpSettings("127.0.0.1", 2525, Security.NONE)
    return Account(name, "kadry@firma.example.com", smtp, imap=imap)


def test_saved_accounts_switch_status_and_cli(
    tmp_path: Path, dovecot: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = Sent(tmp_path)
    fill(dovecot, "INBOX", inbox_for(sent), fresh=False)
    with SettingsStore() as store:
        save_account(store, _account(dovecot, "Kadry"), Scope.PERSONAL,
                     secrets={"imap.password": Secret(dovecot.password)})  # fmt: skip
        save_account(store, _account(dovecot, "Zle"), Scope.PERSONAL,
                     secrets={"imap.password": Secret("wrong-password")})  # fmt: skip
    out = str(sent.outbox)
    assert main(["sync", "--outbox", out]) == 2  # nothing switched on yet
    assert main(["sync", "Kadry", "Zle", "--on", "--outbox", out]) == 0
    assert main(["sync", "--outbox", out]) == 3  # Kadry synced, Zle refused: both recorded
    states = {s.account: s for s in sync_states(outbox=sent.outbox)}
    assert states["Kadry"].enabled and states["Kadry"].seen_last >= 8
    assert states["Kadry"].last_error == "" and states["Kadry"].last_ok
    assert "refused" in states["Zle"].last_error
    set_sync("Zle", False, outbox=sent.outbox)
    capsys.readouterr()
    assert main(["sync", "--status", "--outbox", out]) == 0
    assert "Kadry\tTrue" in capsys.readouterr().out
    export = tmp_path / "status.csv"
    assert main(["status", str(sent.job_path), "--outbox", out, "--export", str(export)]) == 0
    with export.open(encoding="utf-8-sig") as fh:
        table = {r["key"]: r for r in csv.DictReader(fh)}
    assert table["P003"]["delivery"] == "bounced"
    assert "user unknown" in table["P003"]["reason"]
    assert table["P006"]["replied"] == sent.to(6)
    capsys.readouterr()
    assert main(["delivery", str(sent.job_path), "--bounced", "--outbox", out]) == 0
    printed = capsys.readouterr().out
    assert "P003" in printed and "P004" in printed and "P001" not in printed


def test_wrong_password_is_recorded_as_the_last_error(tmp_path: Path, dovecot: Dovecot) -> None:
    outbox = tmp_path / "o.sqlite3"
    # Dovecot answers a repeated bad login only after a growing delay: give it time.
    run = SyncRun("x", dovecot.settings(password=Secret("nope"), timeout_ms=30000), outbox)
    with pytest.raises(AuthError):
        asyncio.run(run.run())
    with Outbox(outbox) as box:
        (error,) = box.db.execute("SELECT last_error FROM sync_state WHERE account='x'").fetchone()
    assert dovecot.user in error and "nope" not in error
