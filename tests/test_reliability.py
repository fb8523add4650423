"""RELIABILITY.md test catalogue, cases 1-21, against the fault-injecting SMTP server.

Each case asserts a clear error, nothing lost and nothing sent twice.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sendkit import FAST, journal, load, people, send, smtp_settings, write_job
from smtp_server import FaultServer

from mailkit.batch import BatchOptions, BatchReport, BatchSender
from mailkit.config import DsnNotify, DsnOptions, Secret, Security, SmtpSettings
from mailkit.enqueue import enqueue
from mailkit.errors import AuthError, BatchBusyError, ConfigError, ConnectError, SecurityError
from mailkit.merge import prepare
from mailkit.message import OutgoingMessage, freeze
from mailkit.outbox import Outbox, RowState
from mailkit.transports.base import SendStatus
from mailkit.transports.smtp import SmtpTransport

try:
    import uvloop
except ImportError:  # Windows
    uvloop = None

PASSWORD = "Bardzo-Tajne-42"
USERS = {"kadry@firma.example.com": PASSWORD}


@pytest.fixture(
    autouse=True,
    params=["asyncio, pipelined", "asyncio, one command at a time", "uvloop, pipelined"],
)
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case three ways: MAIL/RCPT/DATA pipelined (RFC 2920) or one at a time (a server
    without PIPELINING), on asyncio's loop (the app's kernel) and on uvloop (``mailkit send``)."""
    loop, _sep, commands = str(request.param).partition(", ")
    if commands == "one command at a time":
        start = FaultServer.start

        def without_pipelining(server: FaultServer) -> FaultServer:
            server.handler.pipelining = False
            return start(server)

        monkeypatch.setattr(FaultServer, "start", without_pipelining)
    if loop == "uvloop":
        if uvloop is None:
            pytest.skip("uvloop is not installed here")
        monkeypatch.setattr(asyncio, "run", uvloop.run)
    return str(request.param)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    with Outbox(tmp_path / "outbox.sqlite3") as box:
        yield box


@pytest.fixture
def plain(tmp_path: Path) -> FaultServer:
    with FaultServer(tmp=tmp_path) as server:
        yield server


def stored_ids(server: FaultServer) -> Counter[str | None]:
    return Counter(s.message_id for s in server.stored)


def job_of(tmp_path: Path, n: int = 3, **kw: str):  # type: ignore[no-untyped-def]
    return load(write_job(tmp_path, people(n), **kw))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def send_noting(
    outbox: Outbox, batch: str, server: FaultServer, *, connections: int
) -> tuple[BatchReport, list[str]]:
    """Send with a short backoff; the report and the progress notes (pauses, retries)."""
    notes: list[str] = []
    options = BatchOptions(connections=connections, backoff=0.1, backoff_max=0.4, max_attempts=8)
    sender = BatchSender(
        outbox,
        batch,
        lambda: SmtpTransport(smtp_settings(server)),
        options,
        progress=lambda p: notes.append(p.note) if p.note else None,
    )
    return asyncio.run(sender.run()), notes


# 1 -------------------------------------------------------------------------------------------
def test_01_closed_port_pauses_keeps_rows_queued_then_sends_once(tmp_path, outbox) -> None:
    job = job_of(tmp_path, 3)
    journal(job, outbox)
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), security=Security.NONE)
    report = send(outbox, job.name, closed)
    assert report.stopped
    assert report.outcome == "stopped"
    assert "connection refused" in report.reason
    assert "nothing was sent" in report.reason
    assert report.counts == {RowState.QUEUED: 3}
    with FaultServer(tmp=tmp_path) as server:
        again = send(outbox, job.name, smtp_settings(server))
    assert again.outcome == "sent"
    assert again.counts == {RowState.SENT: 3}
    assert len(server.stored) == 3
    assert max(stored_ids(server).values()) == 1


# 2 -------------------------------------------------------------------------------------------
def test_02_greeting_421_pauses_with_backoff_nothing_failed(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 3)
    journal(job, outbox)
    plain.handler.greeting = "421 4.3.2 too busy, try later"
    threading.Timer(0.3, lambda: setattr(plain.handler, "greeting", None)).start()
    report, notes = send_noting(outbox, job.name, plain, connections=2)
    assert report.outcome == "sent"
    assert report.counts == {RowState.SENT: 3}
    assert any("421" in n and "trying again" in n for n in notes)
    assert len(plain.stored) == 3


@pytest.mark.parametrize("command", ["MAIL", "RCPT", "DATA"])
def test_02_421_then_close_mid_session_pauses_the_batch_and_sends_once(
    tmp_path, outbox, plain, command
) -> None:
    job = job_of(tmp_path, 3)
    journal(job, outbox)
    plain.handler.replies[command] = ["421 4.7.0 slow down"]  # then the server hangs up
    report, notes = send_noting(outbox, job.name, plain, connections=1)
    assert report.counts == {RowState.SENT: 3}
    assert any("asks to slow down (421" in n for n in notes), notes  # the batch paused
    assert len(plain.stored) == 3
    assert max(stored_ids(plain).values()) == 1


# 3 -------------------------------------------------------------------------------------------
def test_03_server_never_greets_error_within_the_timeout(plain) -> None:
    plain.handler.greeting = "stall"
    transport = SmtpTransport(smtp_settings(plain, timeout_ms=400))
    started = time.monotonic()
    with pytest.raises(ConnectError, match="did not answer within 400 ms"):
        asyncio.run(transport.open())
    assert time.monotonic() - started < 10.0  # the 400 ms, not the 30 s default; room for slow CI


# 4 -------------------------------------------------------------------------------------------
def test_04_starttls_on_an_implicit_tls_port_names_mode_and_port(tmp_path) -> None:
    with FaultServer(tls="implicit", users=USERS, tmp=tmp_path) as server:
        settings = smtp_settings(server, security=Security.STARTTLS, timeout_ms=400)
        settings = settings.replace(username="kadry@firma.example.com", password=Secret(PASSWORD))
        with pytest.raises(ConnectError) as caught:
            asyncio.run(SmtpTransport(settings).open())
    assert f"localhost:{server.port}" in caught.value.message
    assert "security 'tls'" in caught.value.message
    assert server.handler.commands["AUTH"] == 0


def test_04_implicit_tls_on_a_starttls_port_names_mode_and_port(tmp_path) -> None:
    with FaultServer(tls="starttls", users=USERS, tmp=tmp_path) as server:
        settings = smtp_settings(server, security=Security.TLS)
        settings = settings.replace(username="kadry@firma.example.com", password=Secret(PASSWORD))
        with pytest.raises(SecurityError) as caught:
            asyncio.run(SmtpTransport(settings).open())
    assert f"localhost:{server.port}" in caught.value.message
    assert "'tls'" in caught.value.message
    assert "'starttls'" in caught.value.message
    assert server.handler.commands["AUTH"] == 0


# 5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tls", "security"), [("implicit", "tls"), ("starttls", "starttls")])
def test_05_untrusted_certificate_refused_ca_bundle_accepted(tmp_path, tls, security) -> None:
    with FaultServer(tls=tls, users=USERS, tmp=tmp_path) as server:
        trusted = smtp_settings(server, security=Security(security))
        trusted = trusted.replace(username="kadry@firma.example.com", password=Secret(PASSWORD))
        with pytest.raises(SecurityError, match=r"not trusted.*ca_bundle"):
            asyncio.run(SmtpTransport(trusted.replace(ca_bundle=None)).open())
        assert server.handler.commands["AUTH"] == 0

        async def works() -> None:
            async with SmtpTransport(trusted):
                pass

        asyncio.run(works())
        assert server.handler.commands["AUTH"] == 1


# 6 -------------------------------------------------------------------------------------------
def test_06_wrong_password_stops_after_one_login_no_mail(tmp_path, outbox, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    job = job_of(tmp_path, 10)
    journal(job, outbox)
    wrong = "Zle-Haslo-99"
    with FaultServer(tls="starttls", users=USERS, tmp=tmp_path) as server:
        settings = smtp_settings(server).replace(
            username="kadry@firma.example.com", password=Secret(wrong)
        )
        report = send(outbox, job.name, settings, BatchOptions(connections=3, backoff=0.05))
    assert report.stopped
    assert isinstance(report.error, AuthError)
    assert "kadry@firma.example.com" in report.reason
    assert wrong not in report.reason
    assert len(server.handler.logins) == 1  # one connection tried, one mechanism
    assert server.handler.commands["MAIL"] == 0
    assert report.counts == {RowState.QUEUED: 10}
    assert wrong not in caplog.text
    assert PASSWORD not in caplog.text
    encoded = base64.b64encode(f"\0kadry@firma.example.com\0{wrong}".encode()).decode()
    assert encoded not in caplog.text  # nor the AUTH PLAIN line


# 7 -------------------------------------------------------------------------------------------
def test_07_security_none_with_credentials_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="clear text") as caught:
        SmtpSettings(host="smtp.example.com", security=Security.NONE, username="a@example.com")
    assert caught.value.setting == "smtp.security"
    local = SmtpSettings(host="localhost", port=25, security=Security.NONE, username="a")
    with pytest.raises(ConfigError, match="never sends a password"):
        SmtpTransport(local)


# 8 -------------------------------------------------------------------------------------------
def test_08_sender_refused_stops_at_row_one_all_queued(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 4)
    journal(job, outbox)
    plain.handler.replies["MAIL"] = ["553 5.7.1 Sender address rejected: not owned by user"] * 4
    report = send(outbox, job.name, smtp_settings(plain), BatchOptions(connections=1))
    assert report.stopped
    assert report.outcome == "stopped"
    assert "Reply-To" in report.reason
    assert "kadry@firma.example.com" in report.reason
    assert report.counts == {RowState.QUEUED: 4}
    assert plain.handler.commands["MAIL"] == 1
    assert not plain.stored


# 9 -------------------------------------------------------------------------------------------
def test_09_all_recipients_refused_row_failed_others_sent(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 3)
    journal(job, outbox)
    plain.handler.refuse["osoba2@example.org"] = "550 5.1.1 no such mailbox"
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.SENT: 2, RowState.FAILED: 1}
    assert report.outcome == "failed"
    row = {r["key"]: r for r in outbox.report(job.name)}["P002"]
    assert row["state"] == "failed"
    assert "5.1.1 no such mailbox" in row["refused"]
    assert len(plain.stored) == 2


# 10 ------------------------------------------------------------------------------------------
def test_10_good_to_bad_bcc_row_partial_one_copy(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 2, sender_extra='bcc = "zly@archiwum.example.com"')
    journal(job, outbox)
    plain.handler.refuse["zly@archiwum.example.com"] = "550 5.1.1 unknown user"
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.PARTIAL: 2}
    delivered = Counter(r for s in plain.stored for r in s.rcpt_tos)
    assert delivered == {"osoba1@example.org": 1, "osoba2@example.org": 1}


def test_10_one_refused_recipient_then_a_timeout_defers_the_row(tmp_path, outbox, plain) -> None:
    """A 550 for one recipient is about that recipient: when the connection then times out, the
    row is retried (deferred), not failed, and the good recipient gets one copy."""
    rows = people(1)
    rows[1][2] = "zly@archiwum.example.com"  # To: refused for good
    rows[1][3] = "dobry@example.org"  # CC: its reply comes too late the first time
    job = load(write_job(tmp_path, rows))
    journal(job, outbox)
    plain.handler.refuse["zly@archiwum.example.com"] = "550 5.1.1 unknown user"
    plain.handler.stall["RCPT"] = [0.0, 1.0]
    report = send(outbox, job.name, smtp_settings(plain, timeout_ms=300))
    assert report.counts == {RowState.PARTIAL: 1}
    states = [state for _at, state, _c, _r in outbox.history(job.name, "P001")]
    assert states == ["deferred", "partial"]
    assert Counter(r for s in plain.stored for r in s.rcpt_tos) == {"dobry@example.org": 1}


# 11 ------------------------------------------------------------------------------------------
def test_11_452_after_two_recipients_split_into_new_transactions(tmp_path, outbox, plain) -> None:
    rows = people(1)
    rows[1][3] = "a@example.org, b@example.org"
    rows[1][4] = "c@example.org, d@example.org"
    job = load(write_job(tmp_path, rows))
    journal(job, outbox)
    plain.handler.max_recipients = 2
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.SENT: 1}
    delivered = Counter(r for s in plain.stored for r in s.rcpt_tos)
    assert delivered == Counter(
        ["osoba1@example.org", "a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    )
    assert len(plain.stored) == 3
    assert len({s.message_id for s in plain.stored}) == 1  # the same message, same ID


# 12 ------------------------------------------------------------------------------------------
def test_12_data_451_once_then_ok_deferred_then_sent(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 1)
    journal(job, outbox)
    plain.handler.replies["DATA"] = ["451 4.3.0 temporary failure"]
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.SENT: 1}
    assert len(plain.stored) == 1
    states = [state for _at, state, _c, _r in outbox.history(job.name, "P001")]
    assert states == ["deferred", "sent"]


# 13 ------------------------------------------------------------------------------------------
def test_13_data_554_failed_not_retried(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 1)
    journal(job, outbox)
    plain.handler.replies["DATA"] = ["554 5.6.0 message content rejected"]
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.FAILED: 1}
    assert report.outcome == "failed"
    assert plain.handler.commands["DATA"] == 1
    assert not plain.stored
    row = next(outbox.report(job.name))
    assert row["code"] == 554
    assert "content rejected" in row["reply"]


# 14 ------------------------------------------------------------------------------------------
def test_14_message_over_the_advertised_size_is_flagged_by_preflight(tmp_path, outbox, plain):
    job = job_of(tmp_path, 2)
    plain.handler.size = 300
    transport = SmtpTransport(smtp_settings(plain))

    async def capabilities():  # type: ignore[no-untyped-def]
        async with transport:
            return transport.capabilities

    caps = asyncio.run(capabilities())
    assert caps.size == 300
    done = enqueue(prepare(job), outbox, job.name, capabilities=caps)
    assert not done.ok
    assert done.added == 0
    assert {f.code for f in done.report.errors} == {"size"}
    assert outbox.counts(job.name) == {}


# 15 ------------------------------------------------------------------------------------------
def test_15_drop_before_the_dot_is_unknown_never_a_silent_duplicate(tmp_path, outbox, plain):
    job = job_of(tmp_path, 2)
    journal(job, outbox)
    plain.handler.drop = ["before_dot"]
    report = send(outbox, job.name, smtp_settings(plain), BatchOptions(connections=1))
    assert report.counts == {RowState.SENT: 1, RowState.UNKNOWN: 1}
    assert report.outcome == "unknown"
    assert len(plain.stored) == 1
    again = send(outbox, job.name, smtp_settings(plain))  # not resent without asking
    assert again.counts[RowState.UNKNOWN] == 1
    assert len(plain.stored) == 1
    unknown = [r["key"] for r in outbox.report(job.name) if r["state"] == "unknown"]
    mid = {r["key"]: r["message_id"] for r in outbox.report(job.name)}[unknown[0]]
    assert outbox.requeue(job.name, RowState.UNKNOWN) == 1
    last = send(outbox, job.name, smtp_settings(plain))
    assert last.counts == {RowState.SENT: 2}
    assert stored_ids(plain)[mid] == 1  # resent with the same Message-ID, once


def test_15_drop_after_the_dot_is_unknown_and_stored_once(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 1)
    journal(job, outbox)
    plain.handler.drop = ["after_dot"]
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.UNKNOWN: 1}
    assert len(plain.stored) == 1
    send(outbox, job.name, smtp_settings(plain))
    assert len(plain.stored) == 1


# 16 ------------------------------------------------------------------------------------------
def test_16_rcpt_reply_past_the_timeout_deferred_then_sent_once(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 1)
    journal(job, outbox)
    plain.handler.stall["RCPT"] = [1.0]
    report = send(outbox, job.name, smtp_settings(plain, timeout_ms=300))
    assert report.counts == {RowState.SENT: 1}
    states = [state for _at, state, _c, _r in outbox.history(job.name, "P001")]
    assert states == ["deferred", "sent"]
    assert len(plain.stored) == 1


# 17 ------------------------------------------------------------------------------------------
def test_17_dsn_asked_without_server_dsn_warns_and_never_555(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 2)
    dsn = DsnOptions(frozenset({DsnNotify.ON_FAILURE, DsnNotify.DELAY}))
    transport = SmtpTransport(smtp_settings(plain), dsn=dsn)

    async def capabilities():  # type: ignore[no-untyped-def]
        async with transport:
            return transport.capabilities

    done = enqueue(
        prepare(job), outbox, job.name, capabilities=asyncio.run(capabilities()), dsn=dsn
    )
    assert done.ok
    assert [f.code for f in done.report.warnings] == ["dsn"]
    report = send(outbox, job.name, smtp_settings(plain), dsn=dsn)
    assert report.counts == {RowState.SENT: 2}
    assert all(not s.rcpt_options and not s.mail_options[1:] for s in plain.stored)


def test_17_dsn_parameters_sent_when_the_server_offers_dsn(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 1)
    journal(job, outbox)
    plain.handler.dsn = True
    dsn = DsnOptions(frozenset({DsnNotify.ON_FAILURE, DsnNotify.DELAY}), "HDRS")
    send(outbox, job.name, smtp_settings(plain), dsn=dsn)
    stored = plain.stored[0]
    assert "RET=HDRS" in stored.mail_options
    assert any(o.startswith("ENVID=") for o in stored.mail_options)
    assert "NOTIFY=DELAY,FAILURE" in stored.rcpt_options


# 18 ------------------------------------------------------------------------------------------
def test_18_idn_domain_goes_as_punycode_without_smtputf8(tmp_path, outbox, plain) -> None:
    job = load(write_job(tmp_path, [people(1)[0], ["P1", "Jan", "jan@przykład.pl", "", ""]]))
    journal(job, outbox)
    plain.handler.smtputf8 = False
    report = send(outbox, job.name, smtp_settings(plain))
    assert report.counts == {RowState.SENT: 1}
    assert plain.stored[0].rcpt_tos == ("jan@xn--przykad-rjb.pl",)
    assert b"xn--przykad-rjb.pl" in plain.stored[0].data


def test_18_non_ascii_local_part_rejected_with_a_reason(tmp_path, outbox, plain) -> None:
    rows = [people(1)[0], ["P1", "Jan", "jan@example.org", "", ""]]
    rows.append(["P2", "Użytkownik", "użytkownik@przykład.pl", "", ""])
    job = load(write_job(tmp_path, rows))
    plain.handler.smtputf8 = False
    transport = SmtpTransport(smtp_settings(plain))

    async def capabilities():  # type: ignore[no-untyped-def]
        async with transport:
            return transport.capabilities

    done = enqueue(prepare(job), outbox, job.name, capabilities=asyncio.run(capabilities()))
    [error] = done.report.errors
    assert error.row == "P2"
    assert error.column == "email"
    assert "SMTPUTF8" in error.message
    assert not done.ok
    assert outbox.counts(job.name) == {}

    draft = prepare(job).draft(prepare(job).record("P2"))
    result = asyncio.run(_send_one(transport, freeze(draft)))
    assert result.status is SendStatus.FAILED
    assert "SMTPUTF8" in result.reply
    assert not plain.stored


async def _send_one(transport: SmtpTransport, message: OutgoingMessage):  # type: ignore[no-untyped-def]
    async with transport:
        return await transport.send(message)


# 19 ------------------------------------------------------------------------------------------
def test_19_bcc_never_in_transmitted_or_stored_bytes_one_copy(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 2, sender_extra='bcc = "archiwum@firma.example.com"')
    journal(job, outbox)
    raw = outbox.db.execute("SELECT data FROM payloads").fetchall()
    assert raw
    assert all(b"\nBcc:" not in bytes(d).replace(b"\r", b"") for (d,) in raw)
    send(outbox, job.name, smtp_settings(plain))
    assert all(b"Bcc:" not in s.data for s in plain.stored)
    delivered = Counter(r for s in plain.stored for r in s.rcpt_tos)
    assert delivered["archiwum@firma.example.com"] == 2  # one copy of each of the 2 messages
    assert len(plain.stored) == 2


# 20 ------------------------------------------------------------------------------------------
def test_20_enqueue_twice_adds_nothing_ids_unchanged_sender_domain(tmp_path, outbox) -> None:
    job = job_of(tmp_path, 3)
    first = journal(job, outbox)
    ids = {r["key"]: r["message_id"] for r in outbox.report(job.name)}
    second = journal(job, outbox)
    assert (first.added, first.kept, second.added, second.kept) == (3, 0, 0, 3)
    assert {r["key"]: r["message_id"] for r in outbox.report(job.name)} == ids
    assert all(mid.endswith("@firma.example.com>") for mid in ids.values())


# 21 ------------------------------------------------------------------------------------------
def test_21_two_senders_on_one_batch_each_message_once(tmp_path, outbox, plain) -> None:
    job = job_of(tmp_path, 20)
    journal(job, outbox)
    plain.handler.stall["DATA"] = [0.05] * 20
    second_box = Outbox(outbox.path)

    async def both():  # type: ignore[no-untyped-def]
        def make() -> SmtpTransport:
            return SmtpTransport(smtp_settings(plain))

        one = BatchSender(outbox, job.name, make, FAST)
        two = BatchSender(second_box, job.name, make, FAST)
        first = asyncio.ensure_future(one.run())
        await asyncio.sleep(0.2)
        return await asyncio.gather(first, two.run(), return_exceptions=True)

    try:
        report, busy = asyncio.run(both())
    finally:
        second_box.close()
    assert isinstance(busy, BatchBusyError)
    assert "another mailkit" in busy.message
    assert report.counts == {RowState.SENT: 20}
    assert len(plain.stored) == 20
    assert max(stored_ids(plain).values()) == 1
