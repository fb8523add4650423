"""E-mail addresses: one per cell, explicit CC/BCC lists, IDN as A-labels (email-validator)."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address

from email_validator import EmailNotValidError, validate_email

from .errors import DataError
from .i18n import _
from .text import single_line_problem

__all__ = ["MailAddress", "parse_address", "parse_address_list", "split_address_list"]


@dataclass(frozen=True, slots=True)
class MailAddress:
    """A validated address; ``ascii`` uses the domain's A-label (None if SMTPUTF8 is needed)."""

    local: str
    domain: str
    ascii_domain: str
    display_name: str = ""

    @property
    def smtputf8(self) -> bool:
        """True when the local part is not ASCII, so only an SMTPUTF8 server can take it."""
        return not self.local.isascii()

    @property
    def ascii(self) -> str | None:
        """The address as an envelope and header need it without SMTPUTF8, if it exists."""
        return None if self.smtputf8 else f"{self.local}@{self.ascii_domain}"

    @property
    def addr_spec(self) -> str:
        """The address as the user wrote it (Unicode domain)."""
        return f"{self.local}@{self.domain}"

    def envelope(self) -> str:
        """The form for MAIL FROM / RCPT TO: A-label domain, Unicode local part if it must."""
        return self.ascii or f"{self.local}@{self.ascii_domain}"

    def header(self) -> Address:
        """The ``email.headerregistry.Address`` that goes into From/To/Cc/Reply-To."""
        return Address(self.display_name, self.local, self.ascii_domain)

    def with_name(self, display_name: str) -> MailAddress:
        """A copy with another display name."""
        return MailAddress(self.local, self.domain, self.ascii_domain, display_name)

    def __str__(self) -> str:
        return str(Address(self.display_name, self.local, self.domain))


def split_address_list(text: str) -> list[str]:
    """Split a CC/BCC list on ',' or ';' outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = bracketed = False
    for ch in text:
        if ch == '"' and not bracketed:
            quoted = not quoted
        elif ch == "<" and not quoted:
            bracketed = True
        elif ch == ">" and not quoted:
            bracketed = False
        elif ch in ",;" and not quoted and not bracketed:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_address(text: str, *, display_name: str = "") -> MailAddress:
    """Validate exactly one address (``Name <a@b>`` allowed); raise DataError saying why not."""
    value = text.strip()
    if not value:
        raise DataError(_("the e-mail address is empty"))
    problem = single_line_problem(value)
    if problem:
        raise DataError(_("the e-mail address is refused: {problem}").format(problem=problem))
    parts = split_address_list(value)
    if len(parts) > 1:
        raise DataError(
            _(
                "the cell holds {n} addresses ({value}); a recipient cell takes exactly one. "
                "Put further addresses in a CC or BCC column."
            ).format(n=len(parts), value=value)
        )
    try:
        found = validate_email(
            value, check_deliverability=False, allow_smtputf8=True, allow_display_name=True
        )
    except EmailNotValidError as err:
        raise DataError(
            _("'{value}' is not a valid e-mail address: {reason}").format(value=value, reason=err)
        ) from err
    local, _sep, domain = found.normalized.rpartition("@")
    name = display_name or (found.display_name or "")
    return MailAddress(local, domain, found.ascii_domain, name)


def parse_address_list(text: str) -> tuple[MailAddress, ...]:
    """Parse a comma- or semicolon-separated list; each address is validated on its own."""
    return tuple(parse_address(part) for part in split_address_list(text))
