"""``mailkit log``, ``sync``, ``delivery`` and ``resend``: what happened after sending."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ..accountsync import enabled_accounts, set_sync, sync_run
from ..correction import CorrectionRun
from ..enqueue import batch_id
from ..errors import ConfigError, MailkitError
from ..eventloop import run as run_sending
from ..i18n import _
from ..labels import (
    delivery_label,
    inbound_kind_label,
    outcome_label,
    state_label,
)
from ..logview import (
    account_sync_status,
    bounced_rows,
    delivery_rows,
    export_rows,
    mailer_log,
    replies,
    unmatched_reports,
)
from ..mailerlog import parse_since
from ..saved_jobs import open_job_or_file
from ..sending import SendRequest
from ..syncing import SyncOptions, SyncProgress
from .common import EXIT_FAILED, EXIT_OK, EXIT_STOPPED, fail, out
from .send_commands import _confirmer, _passwords, _print_report, _run_with_signals

__all__ = ["register"]


def _outbox(ns: argparse.Namespace) -> Path | None:
    return Path(ns.outbox) if ns.outbox else None


def _batch(ns: argparse.Namespace) -> tuple[str | None, Path | None]:
    """The batch named by a job file (and --batch), and the job's outbox."""
    if not getattr(ns, "job", None):
        return ns.batch, _outbox(ns)
    job = open_job_or_file(ns.job)
    return batch_id(job, override=ns.batch or ""), _outbox(ns) or job.batch.outbox


def _log(ns: argparse.Namespace) -> int:
    batch, _path = _batch(ns)
    try:
        since = parse_since(ns.since) if ns.since else None
    except ValueError:
        return fail(_("--since takes 30m, 2h, 7d or a date such as 2026-05-01, not {value}").format(
            value=ns.since))  # fmt: skip
    entries = mailer_log(
        batch=batch, account=ns.account, since=since, level=ns.level, limit=ns.limit
    )
    for e in entries:
        code = f" {e.code}" if e.code else ""
        where = " ".join(x for x in (e.batch, e.account, e.where, e.key) if x)
        out(f"{e.at}\t{e.level}\t{e.event}{code}\t{where}\t{e.message}\t{e.details}".rstrip())
    if ns.export:
        export_rows(entries, ns.export)
        out(_("log written to {path}").format(path=ns.export))
    return EXIT_OK


def _print_progress(p: SyncProgress) -> None:
    out(_("read {done} of {total} new messages, {found} reports and replies").format(
        done=p.done, total=p.total, found=p.found))  # fmt: skip


def _sync(ns: argparse.Namespace) -> int:
    outbox = _outbox(ns)
    if ns.on or ns.off:
        for name in ns.account:
            state = set_sync(name, bool(ns.on), outbox=outbox)
            out(_("sync of {name}: {state}").format(
                name=name, state=_("on") if state.enabled else _("off")))  # fmt: skip
        return EXIT_OK
    if ns.status:
        return _show(account_sync_status(outbox=outbox), ns.export)
    if ns.unmatched:
        return _show(unmatched_reports(outbox=outbox), ns.export)
    names = ns.account or enabled_accounts(outbox=outbox)
    if not names:
        return fail(_("no account to sync: name one, or switch sync on with --on NAME"))
    options = SyncOptions(folder=ns.folder, move_to=ns.move_to or "")
    failed = False
    for name in names:
        run = sync_run(name, outbox=outbox, options=options, progress=_print_progress)
        try:
            report = asyncio.run(run.run())
        except ConfigError:
            raise
        except MailkitError as err:  # this account failed (recorded as its last error): go on
            failed = True
            out(_("{name}: {error}").format(name=name, error=err))
            continue
        outcomes = ", ".join(f"{outcome_label(k)} {v}" for k, v in sorted(report.outcomes.items()))
        out(_("{name}: {seen} new messages, {found} reports and replies ({outcomes}); {unmatched} "
              "unmatched, {moved} moved").format(
            name=name, seen=report.seen, found=report.found, outcomes=outcomes or "-",
            unmatched=report.unmatched, moved=report.moved))  # fmt: skip
    return EXIT_FAILED if failed else EXIT_OK


# Stored values printed in the reader's language; the export keeps the raw ones.
_SHOWN_AS = {
    "state": state_label,
    "delivery": delivery_label,
    "kind": inbound_kind_label,
    "outcome": outcome_label,
}


def _show(rows: list[dict[str, Any]], export: str | None) -> int:
    for row in rows:
        out("\t".join(_SHOWN_AS[k](v) if k in _SHOWN_AS else str(v) for k, v in row.items()))
    if export:
        export_rows(rows, export)
        out(_("report written to {path}").format(path=export))
    return EXIT_OK


def _delivery(ns: argparse.Namespace) -> int:
    batch, outbox = _batch(ns)
    if ns.bounced:
        rows = bounced_rows(batch, outbox=outbox)
    elif ns.replies:
        rows = replies(batch, outbox=outbox)
    elif ns.unmatched:
        rows = unmatched_reports(outbox=outbox)
    else:
        rows = delivery_rows(batch, outbox=outbox)
    if ns.bounced or not (ns.replies or ns.unmatched):
        keep = ("batch", "key", "state", "recipients", "delivery", "reason", "delivery_status",
                "diagnostic", "replied", "corrected_by")  # fmt: skip
        rows = [{k: r.get(k, "") for k in keep} for r in rows] if not ns.export else rows
    return _show(rows, ns.export)


def _resend(ns: argparse.Namespace) -> int:
    job = open_job_or_file(ns.job)
    request = SendRequest(batch=ns.batch or "", outbox=_outbox(ns))
    run = CorrectionRun(job, ns.row, request, address=ns.address or "",
                        passwords=_passwords(job), confirm=_confirmer(ns.yes))  # fmt: skip
    outcome = run_sending(_run_with_signals(run))
    if not outcome.enqueued.ok:
        for line in outcome.enqueued.report.lines():
            out(line)
        return fail(_("row {key} cannot be sent again until this is fixed").format(key=ns.row))
    fixed = run.correction
    assert fixed is not None
    out(_("row {key} sent again as {new} to {to}").format(
        key=fixed.original, new=fixed.key, to=", ".join(fixed.new)))  # fmt: skip
    if outcome.report is None:
        out(_("nothing was sent; the corrected row stays queued"))
        return EXIT_STOPPED
    _print_report(outcome.report)
    return EXIT_OK if outcome.report.outcome == "sent" else EXIT_FAILED


def register(commands: Any) -> None:
    """Add ``log``, ``sync``, ``delivery`` and ``resend``."""
    log = commands.add_parser("log", help=_("show the mailer log: connections, retries, errors"))
    log.add_argument(
        "job", nargs="?", help=_("only this job's batch (.toml or a saved job's name)")
    )
    log.add_argument("--batch", help=_("only this batch"))
    log.add_argument("--account", help=_("only this account (saved name or user@host)"))
    log.add_argument("--since", help=_("only newer entries: 30m, 2h, 7d or a date"))
    log.add_argument("--level", default="info", choices=("debug", "info", "warning", "error"),
                     help=_("the lowest level shown"))  # fmt: skip
    log.add_argument("--limit", type=int, help=_("only the newest N entries"))
    log.add_argument("--export", metavar="FILE", help=_("write the entries to .csv or .xlsx"))
    log.add_argument("--outbox", help=argparse.SUPPRESS)
    log.set_defaults(handler=_log)

    sync = commands.add_parser("sync", help=_("read reports and replies from accounts' inboxes"))
    sync.add_argument("account", nargs="*", help=_("saved accounts (default: those with sync on)"))
    switch = sync.add_mutually_exclusive_group()
    switch.add_argument("--on", action="store_true", help=_("switch sync on for the accounts"))
    switch.add_argument("--off", action="store_true", help=_("switch sync off for the accounts"))
    switch.add_argument("--status", action="store_true", help=_("show each account's sync status"))
    switch.add_argument("--unmatched", action="store_true", help=_("list reports not matched"))
    sync.add_argument("--folder", default="INBOX", help=_("the folder to read"))
    moving = _("move matched reports to this folder (mail is never moved otherwise)")
    sync.add_argument("--move-to", metavar="FOLDER", help=moving)
    sync.add_argument("--export", metavar="FILE", help=_("write --status/--unmatched to a file"))
    sync.add_argument("--outbox", help=_("the outbox database"))
    sync.set_defaults(handler=_sync)

    dlv = commands.add_parser("delivery", help=_("delivery per row: bounces, replies, unmatched"))
    dlv.add_argument(
        "job",
        nargs="?",
        help=_("the job file (.toml) or a saved job's name; default: every batch"),
    )
    dlv.add_argument("--batch", help=_("the batch name"))
    what = dlv.add_mutually_exclusive_group()
    what.add_argument("--bounced", action="store_true", help=_("only rows that did not arrive"))
    what.add_argument("--replies", action="store_true", help=_("answers matched to rows"))
    what.add_argument("--unmatched", action="store_true", help=_("reports not matched to a row"))
    dlv.add_argument("--export", metavar="FILE", help=_("write to .csv or .xlsx"))
    dlv.add_argument("--outbox", help=_("the outbox database"))
    dlv.set_defaults(handler=_delivery)

    resend = commands.add_parser("resend", help=_("correct a bounced row and send it again"))
    resend.add_argument("job", help=_("the job file (.toml) or a saved job's name"))
    resend.add_argument("--row", required=True, metavar="KEY", help=_("the row to send again"))
    resend.add_argument("--address", help=_("the corrected address (default: the table's)"))
    resend.add_argument("--yes", action="store_true", help=_("confirm without asking"))
    resend.add_argument("--batch", help=_("the batch name"))
    resend.add_argument("--outbox", help=_("the outbox database"))
    resend.set_defaults(handler=_resend)
