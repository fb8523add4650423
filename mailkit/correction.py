"""Correct and resend: a bounced row rendered again (corrected table or new address) as a new
outbox row linked to the original, whose own history stays as it was."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from .addresses import MailAddress, parse_address
from .batchtypes import Progress
from .delivery import Evidence, transaction
from .destinations import Passwords, Target
from .enqueue import Enqueued
from .errors import DataError
from .i18n import _
from .job import Job
from .labels import state_label
from .merge import Built, Merge, prepare
from .message import Draft, OutgoingMessage
from .outbox import Outbox
from .preflight import preflight
from .sending import Confirm, SendRequest, SendRun
from .sendspec import CopyMode

__all__ = ["Correction", "CorrectionRun", "corrections"]

_CORRECTABLE = ("sent", "partial", "failed")


@dataclass(frozen=True)
class Correction:
    """A corrected row: its new key, the row it corrects, the addresses before and after."""

    batch: str
    key: str
    original: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    reused: bool = False  # an unsent correction with the same addresses was already queued


def corrections(outbox: Outbox, batch: str) -> dict[str, list[str]]:
    """Original row -> the keys of its corrections, oldest first."""
    Evidence(outbox.db)
    out: dict[str, list[str]] = {}
    cur = outbox.db.execute(
        "SELECT original, key FROM corrections WHERE batch=? ORDER BY created", (batch,)
    )
    for original, key in cur:
        out.setdefault(original, []).append(key)
    return out


class CorrectionRun(SendRun):
    """``await CorrectionRun(job, "P001", address="jan@ok.pl", confirm=...).run()``.

    Without ``address`` the row is rendered from the table as it is now (corrected by the user).
    The new row has its own Message-ID and key (``P001~1``), so the exactly-once rules hold for
    both; running it again resumes the same correction instead of making another one.
    """

    def __init__(
        self,
        job: Job,
        key: str,
        request: SendRequest | None = None,
        *,
        address: str = "",
        passwords: Passwords | None = None,
        confirm: Confirm | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        super().__init__(job, request, passwords=passwords, confirm=confirm, progress=progress)
        self.original = key
        self.address = address
        self.correction: Correction | None = None

    def _enqueue(self, outbox: Outbox, target: Target) -> Enqueued:
        evidence = Evidence(outbox.db)
        old, root = self._original(outbox)
        bad = _bad_addresses(outbox, evidence, self.batch, self.original)
        merge = prepare(self.job).subset([root])
        built: list[Built] = []
        report = preflight(
            merge, capabilities=target.capabilities, dsn=self.job.batch.dsn, on_message=built.append
        )
        if not report.ok or not built:
            return Enqueued(self.batch, report, 0, 0)
        assert built[0].draft is not None
        draft = _readdressed(built[0].draft, bad or old, self.address)
        new = draft.recipients
        if set(map(str.casefold, new)) & set(map(str.casefold, bad)) or set(new) == set(old):
            raise DataError(
                _("row {key} would go to {to} again, which did not work ({bad}); correct the "
                  "e-mail in the table or give the new address").format(
                    key=self.original, to=", ".join(new), bad=", ".join(bad) or _("no change")),
                row=self.original,
                column="email",
            )  # fmt: skip
        correction = self._stage(outbox, target, root=root, draft=draft, old=old, merge=merge)
        self.correction = correction
        self.request = dataclasses.replace(self.request, keys=(correction.key,))
        return Enqueued(self.batch, report, 0 if correction.reused else 1, 0)

    def _original(self, outbox: Outbox) -> tuple[tuple[str, ...], str]:
        """The row's recipients and the table row it came from (a correction's original)."""
        found = outbox.db.execute(
            "SELECT state, recipients FROM messages WHERE batch=? AND key=?",
            (self.batch, self.original),
        ).fetchone()
        if found is None:
            raise DataError(
                _("there is no row {key} in batch '{batch}' of the outbox").format(
                    key=self.original, batch=self.batch
                ),
                row=self.original,
            )
        if found[0] not in _CORRECTABLE:
            state = state_label(found[0])
            raise DataError(
                _("row {key} is {state}; only a sent, partly sent or failed row can be "
                  "corrected and sent again").format(key=self.original, state=state),
                row=self.original,
            )  # fmt: skip
        root = outbox.db.execute(
            "SELECT original FROM corrections WHERE batch=? AND key=?", (self.batch, self.original)
        ).fetchone()
        return tuple(json.loads(found[1])), root[0] if root else self.original

    def _stage(
        self,
        outbox: Outbox,
        target: Target,
        *,
        root: str,
        draft: Draft,
        old: tuple[str, ...],
        merge: Merge,
    ) -> Correction:
        previous = outbox.db.execute(
            "SELECT c.key, c.new_recipients, m.state FROM corrections c JOIN messages m "
            "USING(batch, key) WHERE c.batch=? AND c.original=? ORDER BY c.created",
            (self.batch, root),
        ).fetchall()
        for key, recipients, state in previous:
            if tuple(json.loads(recipients)) == draft.recipients:
                if state in ("queued", "deferred"):
                    return Correction(self.batch, key, self.original, old, draft.recipients, True)
                raise DataError(
                    _("row {key} was already sent again to {to} as {new} ({state})").format(
                        key=self.original,
                        to=", ".join(draft.recipients),
                        new=key,
                        state=state_label(state),
                    ),
                    row=self.original,
                )
        key = f"{root}~{len(previous) + 1}"
        message = self._message(dataclasses.replace(draft, key=key), merge)
        seq = outbox.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE batch=?",
                                (self.batch,)).fetchone()[0]  # fmt: skip
        outbox.stage(self.batch, [(seq, message, draft.subject)], target.account)
        outbox.release(self.batch)
        note = _("corrected: sent again as {key} to {to}").format(
            key=key, to=", ".join(draft.recipients)
        )
        with transaction(outbox.db, outbox.path):  # the link and the original's history entry
            outbox.db.execute(
                "INSERT INTO corrections VALUES (?,?,?,?,?,?)",
                (self.batch, key, root, time.time(), json.dumps(old), json.dumps(draft.recipients)),
            )
            outbox.db.execute(
                "INSERT INTO events(batch, key, at, state, reply) VALUES (?,?,?,?,?)",
                (self.batch, self.original, time.time(), "corrected", note),
            )
        return Correction(self.batch, key, self.original, old, draft.recipients)

    def _message(self, draft: Draft, merge: Merge) -> OutgoingMessage:
        message = merge.freeze(draft)
        if self.job.batch.copy_to_me is CopyMode.BCC:  # as enqueue does: envelope only
            own = draft.sender.envelope()
            if own not in message.recipients:
                message = dataclasses.replace(message, recipients=(*message.recipients, own))
        return message


def _bad_addresses(outbox: Outbox, evidence: Evidence, batch: str, key: str) -> tuple[str, ...]:
    """Recipients of the row that bounced (reports) or were refused (SMTP 5xx)."""
    bounced = evidence.rows(batch).get((batch, key))
    out = [r for r, d in (bounced.recipients.items() if bounced else ()) if d.value == "bounced"]
    out += [
        a for (a,) in outbox.db.execute(
            "SELECT address FROM recipients WHERE batch=? AND key=? AND accepted=0", (batch, key)
        )
    ]  # fmt: skip
    return tuple(dict.fromkeys(out))


def _readdressed(draft: Draft, bad: tuple[str, ...], address: str) -> Draft:
    """``draft`` with each bad address replaced by ``address`` (To when none of them is there)."""
    if not address:
        return draft
    new = parse_address(address)
    wrong = {a.casefold() for a in bad}

    def swap(group: tuple[MailAddress, ...]) -> tuple[MailAddress, ...]:
        return tuple(
            dataclasses.replace(new, display_name=a.display_name)
            if a.envelope().casefold() in wrong
            else a
            for a in group
        )

    changed = dataclasses.replace(draft, to=swap(draft.to), cc=swap(draft.cc), bcc=swap(draft.bcc))
    if changed.recipients == draft.recipients:
        changed = dataclasses.replace(draft, to=(new,))
    return changed
