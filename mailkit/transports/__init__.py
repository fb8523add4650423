"""Destinations behind one interface: memory, .eml files (and SMTP)."""

from .base import Capabilities, RecipientResult, SendResult, SendStatus, Transport
from .file import FileTransport, draft_filename
from .memory import MemoryTransport

__all__ = [
    "Capabilities",
    "FileTransport",
    "MemoryTransport",
    "RecipientResult",
    "SendResult",
    "SendStatus",
    "Transport",
    "draft_filename",
]
