"""The one error tree of mailkit; every library error is translated into it where it is caught.

    MailkitError
    ├── ConfigError            a setting, job file or account is wrong   (setting=)
    │   └── SecretError        a secret key is missing or wrong; never a plaintext fallback
    ├── DataError              a table cannot be read or used            (row=, column=)
    ├── TemplateError          a template does not compile or render     (macro=, row=)
    ├── AttachmentError        a document or file cannot be attached     (row=, path=)
    │   └── ProtectionError    encryption, verification or signing failed
    ├── TransportError         the mail server or destination failed     (phase=, code=)
    │   ├── ConnectError       nothing was sent: refused, DNS, greeting, timeout
    │   ├── SecurityError      TLS mode, certificate, STARTTLS missing; before AUTH
    │   ├── AuthError          the server refused the login (535); never retried
    │   └── SenderRefusedError the account may not send as this From (550/553 5.7.x)
    └── JournalError           the outbox cannot be read or written
        └── BatchBusyError     another sender holds this batch

A failure of one row inside a batch is not an exception: it is a per-row result.
Messages are written for the person at the keyboard: what is wrong, where, and what to do.
"""

from __future__ import annotations

__all__ = [
    "AttachmentError",
    "AuthError",
    "BatchBusyError",
    "ConfigError",
    "ConnectError",
    "DataError",
    "JournalError",
    "MailkitError",
    "ProtectionError",
    "SecretError",
    "SecurityError",
    "SenderRefusedError",
    "TemplateError",
    "TransportError",
]


class MailkitError(Exception):
    """Root of every error mailkit raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(MailkitError):
    """A setting, job file or account is invalid; ``setting`` names it."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class SecretError(ConfigError):
    """The key that protects stored secrets is missing or does not match."""


class DataError(MailkitError):
    """A table cannot be loaded or used; ``row`` and ``column`` say where."""

    def __init__(self, message: str, *, row: str | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


class TemplateError(MailkitError):
    """A template does not compile or render; ``macro`` and ``row`` say where."""

    def __init__(
        self,
        message: str,
        *,
        macro: str | None = None,
        row: str | None = None,
        known: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.macro = macro
        self.row = row
        self.known = known


class AttachmentError(MailkitError):
    """A document cannot be produced or a file cannot be attached."""

    def __init__(self, message: str, *, row: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.path = path


class ProtectionError(AttachmentError):
    """Encrypting, verifying or signing failed; nothing unprotected is sent."""


class TransportError(MailkitError):
    """The destination failed; ``phase`` is the SMTP step, ``code`` the reply code."""

    def __init__(
        self,
        message: str,
        *,
        phase: str | None = None,
        code: int | None = None,
        reply: str | None = None,
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.code = code
        self.reply = reply


class ConnectError(TransportError):
    """No session could be opened: refused, unknown host, bad greeting or timeout."""


class SecurityError(TransportError):
    """TLS could not be established as configured; no credentials were sent."""


class AuthError(TransportError):
    """The server refused the login; a batch stops at once and is not retried."""


class SenderRefusedError(TransportError):
    """The server refused the From address for this account (send-as not allowed)."""


class JournalError(MailkitError):
    """The outbox journal cannot be read or written."""


class BatchBusyError(JournalError):
    """Another sender is working on this batch right now."""
