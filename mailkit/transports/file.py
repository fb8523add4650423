"""A transport writing one .eml per message, marked as an unsent draft (Outlook, Thunderbird)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import TransportError
from ..i18n import _
from ..message import OutgoingMessage
from .base import RecipientResult, SendResult, SendStatus, Transport

__all__ = ["FileTransport", "draft_filename"]

_UNSAFE_NAME = re.compile(r"[^\w.-]+")


def draft_filename(key: str) -> str:
    """A portable file name for row ``key``: 'FV/2026/10/0012' -> 'FV_2026_10_0012.eml'."""
    return (_UNSAFE_NAME.sub("_", key).strip("._") or "message") + ".eml"


class FileTransport(Transport):
    """Writes ``<folder>/<row key>.eml``; ``X-Unsent: 1`` makes mail clients open it for editing."""

    name = "files"

    def __init__(self, folder: str | Path, *, unsent: bool = True) -> None:
        self.folder = Path(folder)
        self.unsent = unsent
        self.written: list[Path] = []

    async def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise TransportError(
                _("cannot create the folder {folder}: {reason}").format(
                    folder=self.folder, reason=err.strerror or err
                ),
                phase="connect",
            ) from err

    async def send(self, message: OutgoingMessage) -> SendResult:
        target = self.folder / draft_filename(message.key)
        data = (b"X-Unsent: 1\r\n" + message.data) if self.unsent else message.data
        tmp = target.with_suffix(".eml.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, target)  # a reader never sees half a file
        except OSError as err:
            raise TransportError(
                _("cannot write {path}: {reason}").format(path=target, reason=err.strerror or err),
                phase="data",
            ) from err
        self.written.append(target)
        accepted = tuple(RecipientResult(r, True) for r in message.recipients)
        return SendResult(SendStatus.SENT, message.message_id, accepted, phase="data")
