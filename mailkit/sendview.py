"""What the app's Send tab does to a merge: who sends it, typed passwords, which rows, progress."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from .batchtypes import Progress
from .config import Secret
from .destinations import with_account_batch
from .enqueue import batch_id
from .errors import ConfigError
from .formatting import format_decimal
from .i18n import _
from .identity import SenderIdentity, apply_identity
from .job import Job, parse_job
from .labels import STATE_NAMES, status_label  # how each journal state is called in lists
from .merge import Merge, prepare
from .outbox import default_outbox_path
from .outboxlog import RowState
from .passwords import default_report_path, protection_enabled
from .sending import SendOutcome, SendRequest
from .sendspec import ServerSpec, SinkSpec
from .store import SettingsStore
from .transports.base import SendResult

__all__ = [
    "ROW_MODES",
    "STATE_NAMES",
    "destination_text",
    "outbox_path",
    "outcome_text",
    "progress_text",
    "protection_text",
    "reply_text",
    "resend_request",
    "rows_to_send",
    "send_as",
    "with_passwords",
]

ROW_MODES = ("current", "selected", "all")


def _own_job(job: Job) -> Job:
    """``job`` with the [sender], [destination] and [batch] its settings give (undoing a sender
    rule and the account's limits and notifications it brought)."""
    if job.source is None:  # built in code, not read from TOML: nothing to go back to
        return job
    own = parse_job(job.source, path=job.path)  # as read: a saved job may have no file
    return dataclasses.replace(job, sender=own.sender, destination=own.destination, batch=own.batch)


def send_as(
    merge: Merge,
    identity: SenderIdentity | None,
    store: SettingsStore | None = None,
    passwords: Mapping[str, Secret] | None = None,
) -> Merge:
    """The same rows sent as ``identity`` (a sender rule's result) or, with None, as the job
    file says; ``passwords`` are those typed for held rows. Nothing is read again but the job."""
    job = _own_job(merge.job)
    if identity is not None:
        job = apply_identity(job, identity)
    if store is not None:  # a saved account's limits and notifications (as `mailkit send`)
        job = with_account_batch(job, store)
    return prepare(
        job,
        records=merge.records,
        passwords=passwords or {},
        signing_password=merge.signing_password,
    )


def with_passwords(merge: Merge, passwords: Mapping[str, Secret]) -> Merge:
    """The same merge with ``passwords`` for held rows (ConfigError names a row that takes
    none); the prepared merge is not changed."""
    return prepare(
        merge.job,
        records=merge.records,
        passwords=passwords,
        signing_password=merge.signing_password,
    )


def rows_to_send(
    merge: Merge, mode: str, current: str = "", selected: Sequence[str] = ()
) -> tuple[str, ...] | None:
    """The row keys a send covers: the current row, the selected ones, or None for all."""
    if mode == "all":
        return None
    keys = (current,) if mode == "current" and current else tuple(selected)
    if mode not in ROW_MODES or not keys:
        raise ConfigError(
            _("choose the rows to send first (the current row, or select some)"), setting="rows"
        )
    for key in keys:
        merge.record(key)  # DataError naming a row that is not in this job
    return keys


def resend_request(job: Job, batch: str, keys: Sequence[str]) -> SendRequest:
    """The request that sends ``keys`` of ``batch`` (the job's batch or one of its test
    batches) again, with the same Message-ID and bytes; ConfigError for another job's batch."""
    own = batch_id(job)
    if not keys:
        raise ConfigError(_("batch {batch} has no rows to send again").format(batch=batch))
    if batch == own:
        return SendRequest(keys=tuple(keys), resend_unknown=True)
    prefix = batch_id(job, redirect="\0").split("\0")[0]
    if batch.startswith(prefix) and batch.endswith("]"):
        redirect = batch[len(prefix) : -1]
        return SendRequest(keys=tuple(keys), resend_unknown=True, redirect=redirect)
    raise ConfigError(
        _("batch {batch} belongs to another job: load that job on the Data tab first").format(
            batch=batch
        ),
        setting="batch",
    )


def destination_text(job: Job) -> str:
    """Where the job's messages go, in words (the Send tab shows it before anything goes)."""
    dest, spec = job.destination, job.destination.spec
    if dest.kind == "sink":
        folder = spec.folder if isinstance(spec, SinkSpec) else job.base / "sink"
        return _("the local test sink (captured in {folder}; nothing leaves this computer)").format(
            folder=folder
        )
    if isinstance(spec, ServerSpec) and spec.account:
        return _("the account {name}").format(name=spec.account)
    if dest.kind == "smtp" and isinstance(spec, ServerSpec) and spec.smtp is not None:
        return _("the SMTP server {host}:{port}").format(host=spec.smtp.host, port=spec.smtp.port)
    if dest.kind == "drafts":
        return _("the Drafts folder of the IMAP account")
    if dest.kind == "memory":
        return _("memory (a test: nothing is kept)")
    folder = dest.folder or job.base / "out"
    return _(".eml files in {folder}").format(folder=folder)


def protection_text(job: Job) -> str:
    """How the job's attachments are protected, in words."""
    if not protection_enabled(job):
        return _("Attachments are not password-protected.")
    spec = job.protection
    if spec.source == "random":
        how = _("a random password per recipient, kept in {path} for delivery another way")
        how = how.format(path=spec.report or default_report_path(job))
    elif spec.source == "template":
        how = _("a password made by the template {template}").format(template=spec.template)
    else:
        column = job.data.column(spec.field)
        how = _('the column "{column}"').format(column=column.header if column else spec.field)
    return _(
        "Attachments are encrypted (PDF AES-256, other files in an AES-256 ZIP) with {how}. "
        "A row whose password is empty is held until you type one for it."
    ).format(how=how)


def outbox_path(job: Job) -> Path:
    """The journal the job's batches are kept in."""
    return job.batch.outbox or default_outbox_path()


def progress_text(progress: Progress) -> str:
    """Counts per state, the rate and the time left, in one line."""
    parts = [
        f"{_(STATE_NAMES[state])}: {n}"
        for state in RowState
        if (n := progress.counts.get(state, 0)) and state is not RowState.STAGED
    ]
    line = ", ".join(parts) or _("nothing to send")
    if progress.rate:
        line += " · " + _("{rate} msg/s").format(rate=format_decimal(progress.rate))
    if progress.eta:
        line += " · " + _("about {time} left").format(time=_duration(progress.eta))
    if progress.paused:
        line += " · " + _("paused for {s} s").format(s=format_decimal(progress.paused))
    return line


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return _("{s} s").format(s=whole)
    return _("{m} min {s} s").format(m=whole // 60, s=whole % 60)


def reply_text(result: SendResult, to: str, *, test: bool = False) -> str:
    """One message's outcome in words: to whom (a test or not), its status and the reply."""
    if test:
        text = _("Test message to {to}: {status} {code} {reply}")
    else:
        text = _("Message to {to}: {status} {code} {reply}")
    status = status_label(result.status)
    return text.format(to=to, status=status, code=result.code or "", reply=result.reply).strip()


def outcome_text(outcome: SendOutcome | None) -> tuple[str, str]:
    """What a send came to, in words, and how it went: 'ok', 'warning' or 'error'."""
    if outcome is None:
        return _("Not confirmed: nothing was sent."), "warning"
    report = outcome.enqueued.report
    if report.cancelled:
        return _("Cancelled while checking: nothing was sent."), "warning"
    if not outcome.enqueued.ok:
        rows = ", ".join(dict.fromkeys(f.row for f in report.errors if f.row)) or "-"
        text = _("Nothing was sent: {summary}. Rows with errors: {rows}.")
        return text.format(summary=report.summary(), rows=rows), "error"
    sent = outcome.report
    if sent is None:
        return _("Not confirmed: nothing was sent; the rows stay queued."), "warning"
    counts = ", ".join(
        f"{_(STATE_NAMES[s])}: {n}" for s in RowState if (n := sent.counts.get(s, 0))
    )
    text = _("{counts} ({n} sent now in {s} s).").format(
        counts=counts or _("nothing to send"), n=sent.sent_now, s=format_decimal(sent.elapsed, 1)
    )
    if sent.reason:
        text += " " + _("Stopped: {reason}").format(reason=sent.reason)
    if sent.counts.get(RowState.UNKNOWN):
        text += " " + _(
            "Rows in state 'unknown' may or may not have arrived: check with the recipients "
            "or the server, then send them again (same Message-ID)."
        )
    if outcome.copy_error:
        text += " " + _("Copies to the Sent folder failed: {error}").format(
            error=outcome.copy_error
        )
    kind = {"sent": "ok", "stopped": "warning", "unknown": "warning"}.get(sent.outcome, "error")
    return text, kind
