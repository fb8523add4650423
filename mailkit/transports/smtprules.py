"""SMTP rules without a network: reply classes (RFC 3463), xtext (RFC 3461), TLS, settings, and
the errors for a refused sender, a missing password or no usable login mechanism."""

from __future__ import annotations

import functools
import re
import ssl

from ..config import LOCAL_HOSTS, Security, SmtpSettings
from ..errors import AuthError, ConfigError, SenderRefusedError
from ..i18n import _
from ..message import crlf_only

__all__ = [
    "auth_missing",
    "check_settings",
    "data_payload",
    "enhanced_code",
    "is_throttle",
    "sender_refused",
    "smtp_password",
    "tls_context",
    "xtext",
]

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")  # RFC 3463
_BARE_LINE_ENDS = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def data_payload(message: bytes, *, crlf: bool = False) -> bytes:
    """What follows DATA: CRLF line ends, a dot doubled at each line start, the final
    ``.`` line (RFC 5321 section 4.5.2). ``crlf``: no line end is known to be bare (a message
    frozen by mailkit), so they are not counted; else a regular expression mends them where
    the counts show a bare one."""
    if not crlf:
        message = _crlf(message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    if message.startswith(b"."):
        message = b"." + message
    return message.replace(b"\r\n.", b"\r\n..") + b".\r\n"


def _crlf(message: bytes) -> bytes:
    """Bare CR and LF made CRLF; the counts decide whether the expression runs at all."""
    return message if crlf_only(message) else _BARE_LINE_ENDS.sub(b"\r\n", message)


def enhanced_code(reply: str) -> str:
    """The enhanced status code at the start of a reply text ('5.7.1'), or ''."""
    found = _ENHANCED.match(reply.strip())
    return found.group(0) if found else ""


def is_throttle(code: int | None, reply: str) -> bool:
    """True for a reply that asks the client to slow down: 421, 4.7.x, 450/451 4.2.1 (quota)."""
    enhanced = enhanced_code(reply)
    return code == 421 or enhanced.startswith("4.7.") or enhanced == "4.2.1"


def xtext(value: str) -> str:
    """RFC 3461 xtext: '+', '=' and bytes outside 33..126 become +HH."""
    return "".join(
        ch if 33 <= ord(ch) <= 126 and ch not in "+=" else "".join(f"+{b:02X}" for b in ch.encode())
        for ch in value
    )


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The client TLS context for these settings (verified unless told otherwise)."""
    return _cached_context(str(settings.ca_bundle or ""), settings.verify_certificates)


@functools.lru_cache(maxsize=16)
def _cached_context(ca_bundle: str, verify: bool) -> ssl.SSLContext:
    """One context per trust setting: loading the system CAs costs ~30 ms per context."""
    ctx = ssl.create_default_context(cafile=ca_bundle or None)
    if not verify:  # an explicit, visible setting; never a default
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_settings(settings: SmtpSettings) -> None:
    if settings.security is not Security.NONE:
        return
    if settings.host.lower() not in LOCAL_HOSTS:
        raise ConfigError(
            _(
                "smtp security 'none' is only for this computer (localhost); use 'starttls' or "
                "'tls' for {host}"
            ).format(host=settings.host),
            setting="smtp.security",
        )
    if settings.username:
        raise ConfigError(
            _("smtp security 'none' never sends a password; use 'starttls' or 'tls'"),
            setting="smtp.security",
        )


def sender_refused(where: str, sender: str, code: int, reply: str) -> SenderRefusedError:
    """MAIL FROM refused with 550/553 5.7.x: this account may not send as ``sender``."""
    return SenderRefusedError(
        _(
            "{where} refused the sender {sender}: {code} {reply}. This account may "
            "not send as this address: send From the account's own address and put "
            "{sender} in Reply-To, or ask the administrator for send-as rights."
        ).format(where=where, sender=sender, code=code, reply=reply),
        phase="mail",
        code=code,
        reply=reply,
    )


def smtp_password(settings: SmtpSettings) -> str:
    """The login password, or a ConfigError naming the setting."""
    if settings.password is None:
        raise ConfigError(
            _("smtp user {user} needs a password").format(user=settings.username),
            setting="smtp.password",
        )
    return settings.password.reveal()


def auth_missing(where: str, wanted: str, offered: list[str]) -> AuthError:
    """The server offers no login mechanism mailkit can use."""
    return AuthError(
        _("{where} does not offer {wanted} login (it offers: {offered})").format(
            where=where, wanted=wanted, offered=", ".join(offered).upper() or _("none")
        ),
        phase="auth",
    )
