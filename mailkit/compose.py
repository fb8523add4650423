"""One message outside a batch (the seed CRM's "new message"): a row's draft, edited by hand."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import mimetypes
from collections.abc import Iterable
from pathlib import Path

from .addresses import MailAddress, parse_address_list
from .destinations import open_destination
from .errors import DataError
from .i18n import _
from .merge import Merge
from .message import Attachment, Draft, freeze
from .sending import Confirm, ConfirmInfo
from .templates import TemplateSource
from .transports import FileTransport
from .transports.base import SendResult
from .workbench import retemplate

__all__ = ["compose", "insert_template", "save_draft", "send_draft"]


def insert_template(merge: Merge, key: str, source: TemplateSource | None = None) -> Draft:
    """Row ``key``'s message with ``source`` filled in for it (None: the job's own template)."""
    made = merge if source is None else retemplate(merge, source)
    return made.draft(made.record(key))


def _addresses(text: str, label: str) -> tuple[MailAddress, ...]:
    try:
        return parse_address_list(text)
    except DataError as err:
        raise DataError(
            _("{field}: {reason}").format(field=label, reason=err.message), column=label
        ) from err


def _attachment(name: str, content: bytes) -> Attachment:
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Attachment(Path(name).name, content, mimetype)


def compose(
    base: Draft,
    *,
    subject: str,
    text: str,
    html: str = "",
    cc: str = "",
    bcc: str = "",
    files: Iterable[tuple[str, bytes]] = (),
) -> Draft:
    """``base`` (a row's draft) with the subject and bodies as typed, more CC/BCC and files.

    A bad address is a DataError naming the CC or BCC field; the job's own CC/BCC stay.
    """
    if not subject.strip():
        raise DataError(_("write a subject first"), column="subject")
    if not text.strip():
        raise DataError(_("write the message first: the text body is empty"), column="text")
    return dataclasses.replace(
        base,
        subject=subject.strip(),
        text=text,
        html=html if html.strip() else None,
        cc=(*base.cc, *_addresses(cc, _("CC"))),
        bcc=(*base.bcc, *_addresses(bcc, _("BCC"))),
        attachments=(*base.attachments, *(_attachment(n, c) for n, c in files)),
    )


async def save_draft(draft: Draft, folder: str | Path) -> Path:
    """Write ``draft`` as an unsent .eml draft in ``folder`` and return its path."""
    message = freeze(draft)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    message = dataclasses.replace(message, key=f"{draft.key}-{stamp}")
    transport = FileTransport(folder)
    async with transport:
        await transport.send(message)
    return transport.written[-1]


async def send_draft(
    merge: Merge, draft: Draft, confirm: Confirm | None = None
) -> SendResult | None:
    """Send one composed message through the job's destination (not journaled).

    A real server needs ``confirm`` to say yes; without it, or when it says no, nothing is sent
    and the result is None. The local sink and files need no confirmation.
    """
    message = await asyncio.to_thread(merge.freeze, draft)  # attachments may take a while
    async with open_destination(merge.job, probe=False) as target:
        if target.real:
            user = target.smtp.username if target.smtp else ""
            answer = confirm(ConfirmInfo("", target.where, user, 1, 0)) if confirm else False
            if not (await answer if inspect.isawaitable(answer) else answer):
                return None
        transport = target.new_transport()
        async with transport:
            return await transport.send(message)
