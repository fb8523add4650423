"""Write every ready message of a merge as an .eml draft (the seed's "open in Outlook to edit")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .findings import Finding
from .merge import Merge
from .preflight import finding_from_error
from .transports import FileTransport

__all__ = ["ExportResult", "export_drafts"]


@dataclass(frozen=True)
class ExportResult:
    """Files written, and the rows left out with the reason."""

    written: tuple[Path, ...]
    skipped: tuple[Finding, ...]
    cancelled: bool = False


async def export_drafts(
    merge: Merge,
    folder: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write ``<row key>.eml`` with ``X-Unsent: 1`` for each row that merges cleanly."""
    skipped: list[Finding] = [f for f in merge.findings if f.blocking]
    total = len(merge.records.records)
    done = 0
    transport = FileTransport(folder)
    async with transport:
        for built in merge.messages():
            if cancel and cancel():
                return ExportResult(tuple(transport.written), tuple(skipped), cancelled=True)
            done += 1
            if built.message is None:
                assert built.error is not None
                skipped.append(
                    finding_from_error(built.error, row=built.record.key, line=built.record.line)
                )
                continue
            await transport.send(built.message)
            if progress:
                progress(done, total)
    return ExportResult(tuple(transport.written), tuple(skipped))
