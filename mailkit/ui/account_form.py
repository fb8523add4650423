"""The account form's widgets: identity, SMTP, IMAP, notifications, limits; values in and out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as w

from ..config import DEFAULT_PORTS, PROVIDER_PRESETS, DsnNotify, Security
from ..i18n import N_, _
from ..labels import DSN_NAMES
from .kit import Labels, choose, css

__all__ = ["AccountForm", "ServerForm"]

SECURITY = ((N_("STARTTLS (port 587)"), "starttls"), (N_("TLS (port 465/993)"), "tls"),
            (N_("none (this computer only)"), "none"))  # fmt: skip
LIMITS = ("per_minute", "per_hour", "per_day", "recipients_per_message", "connections")
LIMIT_NAMES = {
    "per_minute": N_("Messages per minute"),
    "per_hour": N_("Messages per hour"),
    "per_day": N_("Messages per day"),
    "recipients_per_message": N_("Recipients per message"),
    "connections": N_("Connections"),
}
FLAGS = ("integration", "copy_to_self", "send_as", "default")
AUTH = ((N_("a password (or an app password)"), "password"),
        (N_("an OAuth2 token (two-step verification)"), "oauth2"))  # fmt: skip
WIDE = w.Layout(width="600px")


def _text(cls: str) -> w.Text:
    return css(w.Text(layout=WIDE), cls)


class ServerForm(w.VBox):
    """Host, port, security, timeout, login, password (write-only), certificates."""

    def __init__(self, labels: Labels, kind: str) -> None:
        self.kind = kind
        self.host = _text(f"mk-{kind}-host")
        self.port = css(w.BoundedIntText(min=0, max=65535, layout=WIDE), f"mk-{kind}-port")
        self.security = css(w.Dropdown(layout=WIDE), f"mk-{kind}-security")
        self.timeout = css(
            w.BoundedIntText(min=100, max=600_000, value=30_000, layout=WIDE),
            f"mk-{kind}-timeout",
        )
        self.username = _text(f"mk-{kind}-user")
        self.password = css(w.Password(layout=WIDE), f"mk-{kind}-password")
        self.saved = css(w.HTML(), f"mk-{kind}-password-state")
        self.show_button = css(w.Button(layout=w.Layout(width="auto")), f"mk-{kind}-show")
        self.revealed = css(w.HTML(), f"mk-{kind}-revealed")
        self.verify = css(w.Checkbox(value=True, indent=False), f"mk-{kind}-verify")
        self.ca_bundle = _text(f"mk-{kind}-ca")
        self.extra: list[Any] = []
        for widget, msgid in (
            (self.host, N_("Server")),
            (self.port, N_("Port")),
            (self.security, N_("Security")),
            (self.timeout, N_("Timeout (ms)")),
            (self.username, N_("Login")),
            (self.password, N_("Password")),
            (self.show_button, N_("Show")),
            (self.verify, N_("Verify the server's certificate")),
            (self.ca_bundle, N_("CA bundle (file)")),
        ):
            labels.text(widget, msgid)
        labels.options(self.security, SECURITY)
        labels.text(self.password, N_("empty: keep the saved password"), "placeholder")
        labels.text(self.ca_bundle, N_("empty: the system's certificates"), "placeholder")
        super().__init__(self._rows())
        css(self, "mk-server", f"mk-server-{kind}")
        self.security.observe(self._default_port, names="value")

    def _default_port(self, change: Any) -> None:
        """A new security mode brings its usual port, unless another port was typed."""
        ports = DEFAULT_PORTS[self.kind]
        old, new = change["old"], change["new"]
        if old in ports and new in ports and self.port.value in (0, ports[Security(old)]):
            self.port.value = ports[Security(new)]

    def _rows(self) -> list[Any]:
        return [
            self.host,
            self.port,
            self.security,
            self.timeout,
            self.username,
            w.HBox([self.password, self.show_button, self.saved]),
            self.revealed,
            self.verify,
            self.ca_bundle,
            *self.extra,
        ]

    def add(self, *widgets: Any) -> None:
        """More fields under the common ones (IMAP's folders)."""
        self.extra.extend(widgets)
        self.children = self._rows()

    def fill(self, values: Mapping[str, Any]) -> None:
        """Show saved settings; the password field stays empty (write-only)."""
        self.host.value = str(values.get("host", ""))
        self.port.value = int(values.get("port", 0) or 0)
        choose(self.security, self.security.options, values.get("security", "starttls"))
        self.timeout.value = int(values.get("timeout_ms", 30_000))
        self.username.value = str(values.get("username", ""))
        self.password.value = ""
        self.revealed.value = ""
        self.verify.value = bool(values.get("verify_certificates", True))
        self.ca_bundle.value = str(values.get("ca_bundle", "") or "")

    def values(self) -> dict[str, Any]:
        """The settings as typed (never the password)."""
        return {
            "host": self.host.value.strip(),
            "port": self.port.value,
            "security": self.security.value,
            "timeout_ms": self.timeout.value,
            "username": self.username.value.strip(),
            "verify_certificates": self.verify.value,
            "ca_bundle": self.ca_bundle.value.strip(),
        }

    def take_password(self) -> str:
        """The typed password, and the field emptied at once (widget state never keeps it)."""
        typed: str = self.password.value
        self.password.value = ""
        return typed


class AccountForm(w.VBox):
    """Everything an account has, except its secrets (typed into the password fields only)."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.name = _text("mk-acc-name")
        self.sender_name = _text("mk-acc-sender-name")
        self.address = _text("mk-acc-address")
        self.reply_to = _text("mk-acc-reply-to")
        self.cc = _text("mk-acc-cc")
        self.bcc = _text("mk-acc-bcc")
        self.integration = css(w.Checkbox(indent=False), "mk-acc-integration")
        self.copy_to_self = css(w.Checkbox(indent=False), "mk-acc-copy-to-self")
        self.send_as = css(w.Checkbox(indent=False), "mk-acc-send-as")
        self.default = css(w.Checkbox(indent=False), "mk-acc-default")
        self.owner = _text("mk-acc-owner")
        self.users = _text("mk-acc-users")
        self.auth = css(w.Dropdown(layout=WIDE), "mk-acc-auth")
        self._base: dict[str, Any] = {}  # what the form does not show is kept as it was
        self.smtp = ServerForm(labels, "smtp")
        self.imap = ServerForm(labels, "imap")
        self.sent_folder = _text("mk-imap-sent")
        self.drafts_folder = _text("mk-imap-drafts")
        self.imap.add(self.sent_folder, self.drafts_folder)
        self.dsn = {
            n: css(
                w.Checkbox(indent=False, layout=w.Layout(width="auto")),
                f"mk-dsn-{n.value.lower()}",
            )
            for n in (DsnNotify.NEVER, DsnNotify.NONE, DsnNotify.ON_FAILURE,
                      DsnNotify.ON_SUCCESS, DsnNotify.DELAY)
        }  # fmt: skip
        self.preset = css(w.Dropdown(layout=WIDE), "mk-preset")
        self.limits = {
            k: css(
                w.BoundedIntText(min=0, max=10_000_000, layout=WIDE),
                f"mk-limit-{k}",
            )
            for k in LIMITS
        }
        self._label()

    def _label(self) -> None:
        lab = self.labels
        for widget, msgid in (
            (self.name, N_("Account name")),
            (self.sender_name, N_("Sender name")),
            (self.address, N_("Sender address")),
            (self.reply_to, N_("Reply-To")),
            (self.cc, N_("Default CC")),
            (self.bcc, N_("Default BCC")),
            (self.integration, N_("Use for integration")),
            (self.copy_to_self, N_("Send a copy to myself (CC)")),
            (self.send_as, N_("The server lets it send as other addresses")),
            (self.default, N_("The company's default account")),
            (self.owner, N_("Owner")),
            (self.users, N_("Who may use it")),
            (self.auth, N_("Log in with")),
            (self.sent_folder, N_("Sent folder")),
            (self.drafts_folder, N_("Drafts folder")),
            (self.preset, N_("Limits")),
        ):
            lab.text(widget, msgid)
        for key, widget in self.limits.items():
            lab.text(widget, LIMIT_NAMES[key])
        for notify, box in self.dsn.items():
            lab.text(box, DSN_NAMES[notify.value])  # the stored value stays e.g. "OnFailure"
        lab.text(self.sent_folder, N_("empty: found by its \\Sent flag"), "placeholder")
        lab.text(self.owner, N_("the user responsible for the account"), "placeholder")
        lab.text(self.users, N_("user names or @profile, comma-separated; empty: everyone"),
                 "placeholder")  # fmt: skip
        lab.options(self.auth, AUTH)  # its owner calls show_auth when it changes
        lab.text(self.drafts_folder, N_("empty: found by its \\Drafts flag"), "placeholder")
        presets = [(N_("my own limits below"), "")] + [(p, p) for p in sorted(PROVIDER_PRESETS)]
        lab.options(self.preset, presets)
        self.preset.observe(lambda _c: self._limits_shown(), names="value")
        super().__init__(self._sections(lab))
        css(self, "mk-account-form")

    def _sections(self, lab: Labels) -> list[Any]:
        return [
            lab.heading(N_("Sender")),
            *(self.name, self.sender_name, self.address, self.reply_to, self.cc, self.bcc),
            *(self.integration, self.copy_to_self, self.send_as, self.default),
            *(self.owner, self.users),
            lab.heading(N_("Sending (SMTP)")),
            self.auth,
            self.smtp,
            lab.heading(N_("Mailbox (IMAP): copies in Sent, Drafts")),
            self.imap,
            lab.heading(N_("Delivery notifications (DSN)")),
            w.HBox(list(self.dsn.values())),
            lab.heading(N_("Sending limits")),
            self.preset,
            *self.limits.values(),
        ]

    def _limits_shown(self) -> None:
        for widget in self.limits.values():
            widget.disabled = bool(self.preset.value)

    def fill(self, values: Mapping[str, Any]) -> None:
        """Show an account's settings (form_values / blank_form)."""
        self._base = dict(values)
        for key in ("name", "sender_name", "address", "reply_to", "cc", "bcc", "owner"):
            getattr(self, key).value = str(values.get(key, ""))
        self.users.value = ", ".join(values.get("users", []))
        choose(self.auth, self.auth.options, values.get("auth", "password"))
        for key in FLAGS:
            getattr(self, key).value = bool(values.get(key, False))
        self.smtp.fill(values.get("smtp", {}))
        imap = values.get("imap", {})
        self.imap.fill(imap)
        self.sent_folder.value = str(imap.get("sent_folder", ""))
        self.drafts_folder.value = str(imap.get("drafts_folder", ""))
        for notify, box in self.dsn.items():
            box.value = notify.value in values.get("dsn", [])
        choose(self.preset, self.preset.options, values.get("preset", ""))
        limits = values.get("limits") or {}
        for key, widget in self.limits.items():
            widget.value = int(limits.get(key, 4 if key == "connections" else 0))
        self._limits_shown()

    def values(self) -> dict[str, Any]:
        """The account as plain data (``account_from_form`` validates it)."""
        imap = self.imap.values()
        imap.update(sent_folder=self.sent_folder.value.strip(),
                    drafts_folder=self.drafts_folder.value.strip())  # fmt: skip
        out: dict[str, Any] = dict(self._base)
        out.pop("limits", None)
        out.update(
            {
                key: getattr(self, key).value.strip()
                for key in ("name", "sender_name", "address", "reply_to", "cc", "bcc", "owner")
            }
        )
        out["users"] = [u.strip() for u in self.users.value.split(",") if u.strip()]
        out["auth"] = self.auth.value
        out.update({key: getattr(self, key).value for key in FLAGS})
        out.update(
            smtp=self.smtp.values(),
            imap=imap,
            dsn=[n.value for n, box in self.dsn.items() if box.value],
            preset=self.preset.value,
        )
        if not self.preset.value:
            out["limits"] = {k: widget.value for k, widget in self.limits.items()}
        return out

    def lock(self, locked: bool) -> None:
        """Read-only (a user without the right to change shared settings)."""
        for box in (self, self.smtp, self.imap):
            for child in _leaves(box):
                if hasattr(child, "disabled") and not isinstance(child, w.Button):
                    child.disabled = locked
        if not locked:
            self._limits_shown()
        self.show_auth()

    def show_auth(self) -> None:
        """With OAuth2 the SMTP box takes the token, which serves IMAP too (its box is off)."""
        token = self.auth.value == "oauth2"
        keep = _("empty: keep the saved password")
        box = self.smtp.password
        box.description = _("OAuth2 token") if token else _("Password")
        box.placeholder = _("empty: keep the saved token") if token else keep
        imap = self.imap.password
        imap.disabled = token or self.smtp.host.disabled
        imap.placeholder = _("the OAuth2 token above serves IMAP too") if token else keep


def _leaves(box: Any) -> list[Any]:
    out = []
    for child in getattr(box, "children", ()):
        out.extend(_leaves(child) if isinstance(child, w.Box) else [child])
    return out
