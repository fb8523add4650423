"""mailkit: merged e-mail in batches, checked before anything is sent.

Typical use::

    import mailkit
    merge = mailkit.prepare(mailkit.load_job("data/jobs/overdue.toml"))
    report = mailkit.preflight(merge)
    print(mailkit.preview(merge, merge.keys()[0]))
"""

from .accounts import Account
from .addresses import MailAddress, parse_address, parse_address_list
from .bundle import export_bundle, import_bundle, read_bundle
from .diagnostics import Diagnosis, diagnose_account, diagnose_imap, diagnose_smtp
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
from .identity import SenderIdentity, SenderRule, account_identity, resolve_sender
from .job import Job, load_job, load_template, parse_job
from .merge import Merge, prepare
from .message import Attachment, Draft, OutgoingMessage, build_message, freeze
from .outbox import Outbox, RowState
from .preflight import PreflightReport, preflight
from .preview import MessageView, preview, view
from .saved_accounts import account_for_sending, list_accounts, save_account
from .saved_jobs import SavedJob, find_job, list_jobs, open_job_or_file, save_job_file
from .sending import SendOutcome, SendRequest, SendRun, send_test
from .sink import Sink
from .store import Scope, SettingsStore
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
    "Account",
    "Attachment",
    "AttachmentError",
    "AuthError",
    "BatchBusyError",
    "ConfigError",
    "ConnectError",
    "DataError",
    "Diagnosis",
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
    "Outbox",
    "OutgoingMessage",
    "PreflightReport",
    "ProtectionError",
    "RowState",
    "SavedJob",
    "Scope",
    "SecretError",
    "SecurityError",
    "SendOutcome",
    "SendRequest",
    "SendResult",
    "SendRun",
    "SendStatus",
    "SenderIdentity",
    "SenderRefusedError",
    "SenderRule",
    "SettingsStore",
    "Severity",
    "Sink",
    "TemplateError",
    "TemplateSource",
    "Transport",
    "TransportError",
    "__version__",
    "account_for_sending",
    "account_identity",
    "build_message",
    "compile_template",
    "diagnose_account",
    "diagnose_imap",
    "diagnose_smtp",
    "export_bundle",
    "export_drafts",
    "find_job",
    "format_date",
    "format_money",
    "freeze",
    "get_language",
    "import_bundle",
    "list_accounts",
    "list_jobs",
    "load_job",
    "load_template",
    "open_job_or_file",
    "parse_address",
    "parse_address_list",
    "parse_job",
    "preflight",
    "prepare",
    "preview",
    "read_bundle",
    "resolve_sender",
    "save_account",
    "save_job_file",
    "send_test",
    "set_language",
    "view",
]
