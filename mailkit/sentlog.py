"""What the app's Log tab reads: a batch's per-row journal, filtered and exported; the sink."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .data import write_report
from .errors import ConfigError
from .i18n import _
from .job import Job
from .logview import with_delivery
from .outbox import Outbox
from .outboxlog import RowState
from .preview import MessageView, read_back
from .sendspec import SinkSpec
from .sink import Captured, list_messages, read_message

__all__ = [
    "LOG_COLUMNS",
    "SINK_FOLDER_ENV",
    "batch_counts",
    "batch_log",
    "batch_names",
    "captured",
    "export_log",
    "filter_log",
    "keys_in_state",
    "open_captured",
    "sink_folder",
]

SINK_FOLDER_ENV = "MAILKIT_SINK_FOLDER"  # the folder of the sink ``./dev app`` runs

# The columns of the per-row log, in order (an export adds any other key after them).
LOG_COLUMNS = (
    "key",
    "state",
    "delivery",
    "reason",
    "recipients",
    "subject",
    "attempts",
    "sent_at",
    "code",
    "reply",
    "refused",
    "replied",
    "message_id",
)


def batch_names(path: Path) -> list[str]:
    """The batches in the journal at ``path``, newest first ([] when there is no journal)."""
    if not path.exists():
        return []
    with Outbox(path) as outbox:
        return [name for name, _job, _created in reversed(outbox.batches())]


def batch_counts(path: Path, batch: str) -> dict[RowState, int]:
    """How many rows of ``batch`` are in each state ({} when nothing was journaled yet)."""
    if not path.exists():
        return {}
    with Outbox(path) as outbox:
        return outbox.counts(batch)


def batch_log(path: Path, batch: str) -> list[dict[str, Any]]:
    """Every row of ``batch`` with its state, reply and times (``Outbox.report``) and what is
    known about its delivery afterwards (``logview.with_delivery``: reports, bounces, replies).

    The place to join more per-row facts: add a key to each row here and its name to
    ``LOG_COLUMNS`` (and a column to the Log tab's ``COLUMNS``).
    """
    if not path.exists():
        return []
    with Outbox(path) as outbox:
        return with_delivery(outbox, batch, outbox.report(batch))


def keys_in_state(path: Path, batch: str, state: str) -> list[str]:
    """Keys of the rows of ``batch`` in ``state`` (e.g. 'unknown'), in batch order."""
    if not path.exists():
        return []
    with Outbox(path) as outbox:
        cur = outbox.db.execute(
            "SELECT key FROM messages WHERE batch=? AND state=? ORDER BY seq", (batch, state)
        )
        return [str(key) for (key,) in cur]


def filter_log(
    rows: Iterable[Mapping[str, Any]], state: str = "", text: str = ""
) -> list[Mapping[str, Any]]:
    """Rows in ``state`` ('' = any) whose key, recipients or subject contain ``text``."""
    needle = text.strip().casefold()
    out = []
    for row in rows:
        if state and row.get("state") != state:
            continue
        if needle and not any(
            needle in str(row.get(k, "")).casefold() for k in ("key", "recipients", "subject")
        ):
            continue
        out.append(row)
    return out


def export_log(rows: Iterable[Mapping[str, Any]], folder: Path, batch: str, fmt: str) -> Path:
    """Write the rows as ``.csv`` or ``.xlsx`` into ``folder``; formulas are neutralised."""
    if fmt not in ("csv", "xlsx"):
        raise ConfigError(_("export as csv or xlsx, not {fmt}").format(fmt=fmt), setting="format")
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", batch).strip("_") or "batch"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    columns = list(LOG_COLUMNS)
    rows = list(rows)
    columns += [k for k in (rows[0] if rows else {}) if k not in columns]
    return write_report(rows, folder / f"{stem}-{stamp}.{fmt}", columns=columns)


def sink_folder(job: Job | None) -> Path | None:
    """Where the local sink keeps what it captured: the job's sink folder, else the one named
    by ``MAILKIT_SINK_FOLDER`` (``./dev app`` sets it), else None."""
    if job is not None and job.destination.kind == "sink":
        spec = job.destination.spec
        return spec.folder if isinstance(spec, SinkSpec) else job.base / "sink"
    named = os.environ.get(SINK_FOLDER_ENV, "").strip()
    return Path(named).expanduser() if named else None


def captured(folder: Path) -> list[Captured]:
    """The messages the sink captured in ``folder``, newest first."""
    return list(reversed(list_messages(folder)))


def open_captured(folder: Path, message_id: str) -> MessageView:
    """One captured message as its recipient sees it (envelope recipients listed as Bcc)."""
    data = read_message(folder, message_id, envelope=False)
    return read_back(data, message_id)
