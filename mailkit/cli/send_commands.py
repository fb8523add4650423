"""``mailkit send``, ``status`` and ``sink``: send a job exactly once, see its log, run the sink."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import Any

from ..batch import BatchReport, Progress
from ..config import Secret
from ..data import write_report
from ..destinations import Passwords, passwords_from_env
from ..enqueue import batch_id
from ..errors import TransportError
from ..eventloop import run as run_sending
from ..findings import format_finding
from ..formatting import format_decimal
from ..i18n import _
from ..job import Job
from ..labels import delivery_label, state_label, status_label
from ..logview import with_delivery
from ..outbox import Outbox, RowState
from ..saved_jobs import open_job_or_file
from ..sending import ConfirmInfo, SendOutcome, SendRequest, SendRun, send_test
from ..sendspec import DEFAULT_SINK_PORT, ServerSpec
from ..sink import Sink, list_messages, read_message, serve_sink
from .common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    fail,
    out,
)
from .protection_options import add_merge_options, prepare_job

__all__ = ["register"]

_EXIT = {"sent": EXIT_OK, "failed": EXIT_FAILED, "unknown": EXIT_UNKNOWN, "stopped": EXIT_STOPPED}
SINK_PASSWORD_ENV = "MAILKIT_SINK_PASSWORD"  # noqa: S105 - a variable's name


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _passwords(job: Job) -> Passwords:
    """From the environment; asked at the terminal when missing (never echoed, never stored)."""
    found = passwords_from_env(job)
    spec = job.destination.spec
    if not isinstance(spec, ServerSpec) or spec.smtp is None or not spec.smtp.username:
        return found
    if found.smtp is None and sys.stdin.isatty():
        prompt = _("Password for {user} at {host}: ").format(
            user=spec.smtp.username, host=spec.smtp.host
        )
        typed = getpass.getpass(prompt)
        return Passwords(Secret(typed), found.imap or Secret(typed))
    return found


def _confirmer(assume_yes: bool) -> Any:
    def confirm(info: ConfirmInfo) -> bool:
        _err(
            _("{due} message(s) of batch '{batch}' will be sent through {where} as {user}.").format(
                due=info.due, batch=info.batch, where=info.where, user=info.user or "-"
            )
        )
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            _err(_("Not confirmed: add --yes to send without a question."))
            return False
        return input(_("Type yes to send: ")).strip().lower() in ("yes", "tak")

    return confirm


class _Printer:
    """A progress line on standard error at most once a second."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.note:
            _err(p.note)
        if now - self.last < 1.0 and not p.note:
            return
        self.last = now
        counts = ", ".join(f"{state_label(s)} {n}" for s, n in p.counts.items())
        eta = _(", about {s} s left").format(s=format_decimal(p.eta)) if p.eta else ""
        rate = format_decimal(p.rate)
        _err(_("{counts} ({rate} msg/s{eta})").format(counts=counts, rate=rate, eta=eta))


def _checked_printer() -> Any:
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or done == total:
            last[0] = now
            _err(_("checked {done} of {total} rows").format(done=done, total=total))

    return show


def _request(ns: argparse.Namespace) -> SendRequest:
    keys = tuple(k.strip() for part in ns.row or () for k in part.split(",") if k.strip())
    return SendRequest(
        keys=keys or None,
        limit=ns.limit,
        redirect=ns.test_address or "",
        resend_unknown=ns.resend_unknown,
        resend_failed=ns.resend_failed,
        batch=ns.batch or "",
        outbox=Path(ns.outbox) if ns.outbox else None,
        connections=ns.connections,
        processes=ns.processes,
    )


def _send(ns: argparse.Namespace) -> int:
    merge = prepare_job(ns)  # with typed passwords for held rows and the certificate password
    job = merge.job
    passwords = _passwords(job)
    if ns.test_to_me:
        row = (ns.row or [""])[0]
        result = run_sending(
            send_test(job, to=ns.test_address or "", key=row, passwords=passwords, merge=merge)
        )
        out(_("test message: {status} {code} {reply}").format(
            status=status_label(result.status), code=result.code or "", reply=result.reply
        ))  # fmt: skip
        return EXIT_OK if result.status.value == "sent" else EXIT_FAILED
    run = SendRun(job, _request(ns), passwords=passwords, confirm=_confirmer(ns.yes), merge=merge)
    run.progress = _Printer()
    run.check_progress = _checked_printer()
    try:
        outcome = run_sending(_run_with_signals(run))
    except TransportError as err:  # login refused, TLS, server down: nothing was sent
        return fail(err.message, EXIT_STOPPED)
    return _summarise(outcome)


async def _run_with_signals(run: SendRun) -> SendOutcome:
    """Ctrl-C / SIGTERM stop cleanly: messages in flight finish, the rest stays queued."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, run.cancel)
    return await run.run()


def _summarise(outcome: SendOutcome) -> int:
    enq = outcome.enqueued
    for finding in enq.report.findings:
        out(format_finding(finding))
    out(enq.report.summary())
    if enq.report.cancelled:
        return EXIT_STOPPED
    if not enq.ok:
        return EXIT_FINDINGS
    out(_("batch '{batch}': {added} row(s) added, {kept} already in the outbox").format(
        batch=enq.batch, added=enq.added, kept=enq.kept
    ))  # fmt: skip
    report = outcome.report
    if report is None:
        out(_("nothing was sent; the rows stay queued"))
        return EXIT_STOPPED
    _print_report(report)
    if outcome.copies or outcome.copy_error:
        out(_("copies in the Sent folder: {n} {error}").format(
            n=outcome.copies, error=outcome.copy_error
        ))  # fmt: skip
    return _EXIT[report.outcome]


def _print_report(report: BatchReport) -> None:
    if report.recovered:
        text = _("{n} row(s) were being sent when the last run stopped: their outcome is unknown")
        out(text.format(n=report.recovered))
    counts = ", ".join(
        f"{state_label(s)}: {report.counts[s]}" for s in RowState if report.counts.get(s)
    )
    out(
        _("{counts}; {n} sent in {s} s").format(
            counts=counts, n=report.sent_now, s=format_decimal(report.elapsed, 1)
        )
    )
    if report.reason:
        out(_("stopped: {reason}").format(reason=report.reason))
    if report.counts.get(RowState.UNKNOWN):
        out(_(
            "Rows in state 'unknown' may or may not have arrived. Check with the recipients or the "
            "server, then send them again with --resend-unknown (same Message-ID)."
        ))  # fmt: skip


def _status(ns: argparse.Namespace) -> int:
    job = open_job_or_file(ns.job)
    batch = batch_id(job, override=ns.batch or "", redirect=ns.test_address or "")
    path = Path(ns.outbox) if ns.outbox else job.batch.outbox
    with Outbox(path) as outbox:
        rows = with_delivery(outbox, batch, outbox.report(batch))  # + reports read back (sync)
        counts = outbox.counts(batch)
    if not rows:
        out(_("batch '{batch}' has nothing in the outbox yet").format(batch=batch))
        return EXIT_OK
    for row in rows:
        delivery = ""
        if row["delivery"]:
            delivery = f"{delivery_label(row['delivery'])} {row['reason']}".strip()
        reply = f"{row['code'] or ''} {row['reply']}"
        out(f"{row['key']}\t{state_label(row['state'])}\t{row['sent_at']}\t{reply}\t{delivery}")
    out(", ".join(f"{state_label(s)}: {counts[s]}" for s in RowState if counts.get(s)))
    if ns.export:
        write_report(rows, ns.export)
        out(_("report written to {path}").format(path=ns.export))
    return EXIT_OK


def _sink(ns: argparse.Namespace) -> int:
    folder = Path(ns.folder)
    if ns.list or ns.show:
        return _sink_read(folder, ns.show)
    tls = None
    if ns.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(ns.tls_cert, ns.tls_key)
    users = {}
    if ns.user:
        password = os.environ.get(SINK_PASSWORD_ENV, "")
        if not password:
            return fail(_("set {env} to the password for --user").format(env=SINK_PASSWORD_ENV))
        users[ns.user] = password
    sink = Sink(folder, port=ns.port, tls=tls, users=users)
    return asyncio.run(_serve(sink))


async def _serve(sink: Sink) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = asyncio.create_task(serve_sink(sink, stop))
    await asyncio.sleep(0.05)
    if not started.done():
        _err(_("sink listening on 127.0.0.1:{port}, capturing to {folder}; Ctrl-C stops it").format(
            port=sink.port, folder=sink.folder
        ))  # fmt: skip
    await started
    return EXIT_OK


def _sink_read(folder: Path, show: str | None) -> int:
    if show:
        sys.stdout.buffer.write(read_message(folder, show))
        return EXIT_OK
    for item in list_messages(folder):
        rcpts = ", ".join(item.recipients)
        out(f"{item.id}\t{item.date}\t{item.mail_from}\t{rcpts}\t{item.subject}")
    return EXIT_OK


def _exit_codes() -> str:
    """What ``mailkit send`` exits with, for its --help (scripts and schedulers check it)."""
    return _(
        "exit codes: {ok} all sent; {findings} preflight found errors, nothing was sent; "
        "{usage} wrong command or job; {failed} some failed or reached only some recipients; "
        "{unknown} some rows are 'unknown' (check, then --resend-unknown); {stopped} stopped "
        "(cancelled, login or TLS refused, server unreachable, a limit reached, not "
        "confirmed): run it again to resume"
    ).format(
        ok=EXIT_OK, findings=EXIT_FINDINGS, usage=EXIT_USAGE, failed=EXIT_FAILED,
        unknown=EXIT_UNKNOWN, stopped=EXIT_STOPPED,
    )  # fmt: skip


def register(commands: Any) -> None:
    """Add ``send``, ``status`` and ``sink``."""
    send = commands.add_parser(
        "send", help=_("send a job's messages, each exactly once"), epilog=_exit_codes()
    )
    send.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    send.add_argument(
        "--row",
        action="append",
        metavar="KEY",
        help=_("only these rows (repeat or comma-separate)"),
    )
    send.add_argument("--limit", type=int, help=_("send at most this many messages now"))
    send.add_argument(
        "--test-address",
        metavar="ADDRESS",
        help=_("send every message to this address instead (a test batch)"),
    )
    send.add_argument(
        "--test-to-me",
        action="store_true",
        help=_("send one row (--row, else the first) to the sender only; nothing is journaled"),
    )
    send.add_argument(
        "--resend-unknown",
        action="store_true",
        help=_("send rows in state 'unknown' again, with the same Message-ID"),
    )
    send.add_argument(
        "--resend-failed",
        action="store_true",
        help=_("send rows in state 'failed' again (after fixing the cause), same Message-ID"),
    )
    send.add_argument(
        "--yes", action="store_true", help=_("confirm sending to a real server without asking")
    )
    send.add_argument(
        "--batch", help=_("the batch name (default: [batch] id, else the job's name)")
    )
    send.add_argument(
        "--outbox",
        help=_("the outbox database (default: MAILKIT_OUTBOX or ~/.local/share/mailkit)"),
    )
    send.add_argument("--connections", type=int, help=_("parallel connections"))
    send.add_argument(
        "--processes",
        type=int,
        help=_("processes that check and journal a large batch (default: one per core; 1: one)"),
    )
    add_merge_options(send)
    send.set_defaults(handler=_send)

    status = commands.add_parser("status", help=_("show a batch's per-row log"))
    status.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    status.add_argument("--batch", help=_("the batch name"))
    status.add_argument(
        "--test-address", metavar="ADDRESS", help=_("the test batch for this address")
    )
    status.add_argument("--outbox", help=_("the outbox database"))
    status.add_argument("--export", metavar="FILE", help=_("write the log to .csv or .xlsx"))
    status.set_defaults(handler=_status)

    sink = commands.add_parser("sink", help=_("run the local SMTP sink that captures messages"))
    sink.add_argument(
        "--folder", default="sink", help=_("the Maildir folder for captured messages")
    )
    sink.add_argument("--port", type=int, default=DEFAULT_SINK_PORT, help=_("port on 127.0.0.1"))
    sink.add_argument("--tls-cert", help=_("certificate file: offer STARTTLS"))
    sink.add_argument("--tls-key", help=_("the certificate's key file"))
    sink.add_argument(
        "--user", help=_("require AUTH with this user (password in MAILKIT_SINK_PASSWORD)")
    )
    sink.add_argument("--list", action="store_true", help=_("list captured messages and exit"))
    sink.add_argument("--show", metavar="ID", help=_("print one captured message and exit"))
    sink.set_defaults(handler=_sink)
