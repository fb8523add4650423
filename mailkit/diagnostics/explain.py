"""What a failed connection step means for the user: likely causes and what to do (pl/en)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import N_, _

__all__ = ["PROBLEMS", "Problem", "problem"]

_APP_PASSWORD = N_(
    "Two-step verification? The normal password is then refused: create an app password "
    "(Gmail: https://support.google.com/mail/answer/185833) and enter it instead, or use OAuth2."
)
_NO_VERIFY_OFF = N_(
    "Do not switch certificate verification off: anyone on the way could read the password."
)

# code -> (summary, likely causes, what to do); placeholders are filled by problem().
PROBLEMS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "unknown-host": (
        N_("The server name {host} cannot be found (DNS)."),
        (
            N_("The server name is misspelt."),
            N_("The name exists only inside the company network (VPN is off)."),
            N_("This computer has no working network or DNS."),
        ),
        (
            N_("Copy the server name from your mail provider's or administrator's instructions."),
            N_("Try again from the company network or with the VPN on."),
        ),
    ),
    "connection-refused": (
        N_("Could not connect to {host}:{port}: connection refused."),
        (
            N_("The server {host} is not the machine that handles your mail."),
            N_("Port {port} on the server does not accept connections."),
        ),
        (
            N_("Check the server name with your mail provider or administrator."),
            N_("Check the port: 587 with STARTTLS, 465 with TLS, 25 only inside a network."),
        ),
    ),
    "connect-timeout": (
        N_("{host}:{port} did not answer within {seconds} s."),
        (
            N_("A firewall drops the connection (many networks block port 25 and 465)."),
            N_("The server is down or overloaded."),
            N_("The timeout is too short for a slow link."),
        ),
        (
            N_("Try port 587 with STARTTLS, or ask the administrator to open the port."),
            N_("Raise the timeout (in milliseconds) in the account settings."),
        ),
    ),
    "network-error": (
        N_("Could not connect to {host}:{port}: {reason}."),
        (N_("This computer has no route to the server (network or firewall)."),),
        (N_("Check the network connection and the server name."),),
    ),
    "greeting-refused": (
        N_("The server refused the session: {reply}."),
        (
            N_("The server is busy or limits how many connections one client may open."),
            N_("This computer's address is blocked by the server (e.g. on a block list)."),
        ),
        (N_("Try again later; if it persists, send the reply text to the administrator."),),
    ),
    "expects-tls": (
        N_("Port {port} expects TLS from the first byte, but the account uses '{security}'."),
        (N_("Port 465 (SMTPS) and 993 (IMAPS) start with TLS; STARTTLS is for 587 and 143."),),
        (
            N_("Set the security to 'tls' for this port."),
            N_("Or keep 'starttls' and use port 587 (IMAP: 143)."),
        ),
    ),
    "expects-plain": (
        N_("Port {port} starts without TLS, but the account uses 'tls' (TLS from the first byte)."),
        (N_("Ports 587, 25 (and IMAP 143) start in plain text and switch on TLS by STARTTLS."),),
        (
            N_("Set the security to 'starttls' for this port."),
            N_("Or keep 'tls' and use port 465 (IMAP: 993)."),
        ),
    ),
    "tls-failed": (
        N_("TLS with {host}:{port} failed: {reason}."),
        (
            N_("The port does not speak TLS the way the account expects."),
            N_("The server offers only old, insecure TLS versions."),
        ),
        (N_("Check the security mode and port: 465 'tls', 587 'starttls'."),),
    ),
    "starttls-missing": (
        N_("The server does not offer STARTTLS on port {port}; no password is sent unencrypted."),
        (
            N_("This port is meant for servers delivering to each other, not for sending mail."),
            N_("Something on the way (a firewall or antivirus) removes STARTTLS."),
        ),
        (
            N_("Use port 587 with 'starttls' or port 465 with 'tls'."),
            N_("Ask the administrator whether the server supports encryption."),
        ),
    ),
    "certificate-untrusted": (
        N_("The server's certificate is not trusted: {reason}."),
        (
            N_("The server uses a self-signed certificate or the company's own authority."),
            N_("A proxy or antivirus on the way replaces certificates."),
        ),
        (
            N_(
                "Ask the administrator for the company CA certificate (PEM) and set it as the "
                "CA bundle."
            ),
            _NO_VERIFY_OFF,
        ),
    ),
    "certificate-expired": (
        N_("The server's certificate has expired ({reason})."),
        (N_("The server's administrator has not renewed the certificate."),),
        (N_("Tell the server's administrator; try again when it is renewed."), _NO_VERIFY_OFF),
    ),
    "certificate-name": (
        N_("The certificate does not name {host}: {reason}."),
        (N_("The account uses another name or an IP address for the server."),),
        (N_("Use the server name the certificate is issued for: {names}."),),
    ),
    "auth-failed": (
        N_("The server refused the login of {user}: {reply}."),
        (
            N_("The server is right, but the user name or the password is wrong."),
            N_("The user and password are right, but for another server."),
            N_("The mailbox uses two-step verification, so its normal password is refused."),
            N_("Logins from mail programs (SMTP AUTH) are switched off for this mailbox."),
        ),
        (
            N_(
                "Check the user name (usually the whole e-mail address) and type the password "
                "again."
            ),
            _APP_PASSWORD,
            N_("Ask the administrator to allow SMTP AUTH for this mailbox."),
        ),
    ),
    "auth-unavailable": (
        N_("The server offers no login method mailkit can use (offered: {offered})."),
        (
            N_("The server allows logins only after TLS."),
            N_("The server accepts mail without a login (from the company network)."),
        ),
        (
            N_("Check the security mode; with 'none' most servers hide the login."),
            N_("If the administrator says no login is needed, leave the user name empty."),
        ),
    ),
    "auth-required": (
        N_("The server wants a login before it accepts mail: {reply}."),
        (N_("The account has no user name and password set."),),
        (N_("Enter the user name and password of the mailbox."),),
    ),
    "sender-rejected": (
        N_("The server refused the sender address {sender}: {reply}."),
        (
            N_("This login may send only as its own address, not as other addresses (send-as)."),
            N_("The sender address is misspelt."),
        ),
        (
            N_(
                "Send From the account's own address and put {sender} in Reply-To "
                "(switch 'may send as other addresses' off)."
            ),
            N_("Or ask the administrator to let {login} send as {sender}."),
        ),
    ),
    "relay-denied": (
        N_("The server refuses to pass mail on to {recipient}: {reply} (relay denied)."),
        (
            N_("The session is not logged in, so the server takes mail only for its own domains."),
            N_("This computer's address is not allowed to send through this server."),
        ),
        (
            N_("Enter the user name and password, and use the submission port 587 or 465."),
            N_("Ask the administrator which server to send through."),
        ),
    ),
    "recipient-rejected": (
        N_("The server refused the recipient {recipient}: {reply}."),
        (N_("The address does not exist or is misspelt."),),
        (N_("Check the CC and BCC addresses of the account."),),
    ),
    "timeout": (
        N_("The server did not answer within {seconds} s during {phase}."),
        (N_("The server or the network is slow or overloaded."),),
        (N_("Try again later or raise the timeout in the account settings."),),
    ),
    "disconnected": (
        N_("The server closed the connection during {phase}: {reason}."),
        (
            N_("The server limits connections or dropped an idle session."),
            N_("The port speaks another protocol or another TLS mode."),
        ),
        (N_("Check the port and security mode, then try again."),),
    ),
    "server-error": (
        N_("The server answered {reply} during {phase}."),
        (N_("The server refused this step for its own reasons."),),
        (N_("Send the reply text to the server's administrator."),),
    ),
    "folder-missing": (
        N_("No {folder} folder was found."),
        (N_("The server does not mark special folders, or the folder has another name."),),
        (N_("Set the folder name in the account's IMAP settings; the folders are: {folders}."),),
    ),
}


@dataclass(frozen=True)
class Problem:
    """A failure explained: a code for programs, then text in the current language."""

    code: str
    summary: str
    causes: tuple[str, ...]
    actions: tuple[str, ...]

    def lines(self) -> list[str]:
        """The explanation as lines for a terminal or a checklist."""
        out = [self.summary, _("Likely causes:")]
        out += [f"  - {c}" for c in self.causes]
        out.append(_("What to do:"))
        out += [f"  - {a}" for a in self.actions]
        return out


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def problem(code: str, **values: Any) -> Problem:
    """The explanation of ``code`` in the current language with ``values`` filled in."""
    summary, causes, actions = PROBLEMS[code]
    fill = _Blank(values)
    return Problem(
        code,
        _(summary).format_map(fill),
        tuple(_(c).format_map(fill) for c in causes),
        tuple(_(a).format_map(fill) for a in actions),
    )
