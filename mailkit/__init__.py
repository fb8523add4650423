"""mailkit: merged e-mail in batches, checked before anything is sent.

Typical use::

    import mailkit
    merge = mailkit.prepare(mailkit.load_job("data/jobs/overdue.toml"))
    report = mailkit.preflight(merge)
    print(mailkit.preview(merge, merge.keys()[0]))
"""

from .addresses import MailAddress, parse_address, parse_address_list
from .errors import (
    AttachmentError,
    AuthError,
    BatchBusyError,
    ConfigError,
    ConnectError,
    DataError,
    JournalError,
    MailkitError,
    ProtectionError,
    SecretError,
    SecurityError,
    SenderRefusedError,
    TemplateError,
    TransportError,
)
from .export import ExportResult, export_drafts
from .findings import Finding, Severity
from .formatting import Money, format_date, format_money
from .i18n import get_language, set_language
from .job import Job, load_job, load_template, parse_job
from .merge import Merge, prepare
from .message import Attachment, Draft, OutgoingMessage, build_message, freeze
from .preflight import PreflightReport, preflight
from .preview import MessageView, preview, view
from .templates import MessageTemplate, TemplateSource, compile_template
from .transports import (
    FileTransport,
    MemoryTransport,
    SendResult,
    SendStatus,
    Transport,
)

__version__ = "0.1.0"

__all__ = [
    "Attachment",
    "AttachmentError",
    "AuthError",
    "BatchBusyError",
    "ConfigError",
    "ConnectError",
    "DataError",
    "Draft",
    "ExportResult",
    "FileTransport",
    "Finding",
    "Job",
    "JournalError",
    "MailAddress",
    "MailkitError",
    "MemoryTransport",
    "Merge",
    "MessageTemplate",
    "MessageView",
    "Money",
    "OutgoingMessage",
    "PreflightReport",
    "ProtectionError",
    "SecretError",
    "SecurityError",
    "SendResult",
    "SendStatus",
    "SenderRefusedError",
    "Severity",
    "TemplateError",
    "TemplateSource",
    "Transport",
    "TransportError",
    "__version__",
    "build_message",
    "compile_template",
    "export_drafts",
    "format_date",
    "format_money",
    "freeze",
    "get_language",
    "load_job",
    "load_template",
    "parse_address",
    "parse_address_list",
    "parse_job",
    "preflight",
    "prepare",
    "preview",
    "set_language",
    "view",
]
