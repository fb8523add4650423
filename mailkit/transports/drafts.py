"""A transport that appends each message to the account's IMAP Drafts folder, to edit and send."""

from __future__ import annotations

from ..config import ImapSettings
from ..imap import AsyncImap
from ..message import OutgoingMessage
from .base import RecipientResult, SendResult, SendStatus, Transport

__all__ = ["DraftsTransport"]


class DraftsTransport(Transport):
    """ "Open for editing in my mail client": the message lands in Drafts, flagged ``\\Draft``.

    Nothing is sent to the recipients; the user opens each draft in Outlook or Thunderbird,
    edits it if needed and sends it from there.
    """

    name = "drafts"

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._imap: AsyncImap | None = None
        self._folder = ""

    async def open(self) -> None:
        if self._imap is not None:
            return
        imap = AsyncImap(self.settings)
        await imap.connect()
        try:
            self._folder = await imap.special("drafts")
        except BaseException:
            await imap.close()
            raise
        self._imap = imap

    async def close(self) -> None:
        imap, self._imap = self._imap, None
        if imap is not None:
            await imap.close()

    async def send(self, message: OutgoingMessage) -> SendResult:
        await self.open()
        assert self._imap is not None
        uid = await self._imap.append(self._folder, message.data, flags=("\\Draft",))
        reply = f"{self._folder} UID {uid}" if uid else self._folder
        accepted = tuple(RecipientResult(r, True, None, reply) for r in message.recipients)
        return SendResult(SendStatus.SENT, message.message_id, accepted, None, reply, "append")
