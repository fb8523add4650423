"""How stored values are called on screen, in the language of the moment.

Scopes, template origins, row states, send and delivery outcomes are kept in TOML, SQLite,
JSON and exports as their raw English values (``"global"``, ``"partial"``, ``"bounced"``);
users read them through these tables. Keys are the raw values, so a ``StrEnum`` member or the
plain string read back from storage both work. This module imports nothing but ``i18n``, so
any module can use it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

from .i18n import N_, _

__all__ = [
    "DELIVERY_NAMES",
    "DSN_NAMES",
    "FIELD_KIND_NAMES",
    "INBOUND_KIND_NAMES",
    "ORIGIN_NAMES",
    "OUTCOME_NAMES",
    "SCOPE_NAMES",
    "STATE_NAMES",
    "STATUS_NAMES",
    "delivery_label",
    "field_kind_label",
    "inbound_kind_label",
    "label",
    "origin_label",
    "outcome_label",
    "scope_label",
    "state_label",
    "status_label",
]

# mailkit.store.Scope: who a setting is for.
SCOPE_NAMES = {
    "global": N_("global"),
    "personal": N_("personal"),
}

# mailkit.catalog.Origin: where a template or message type comes from.
ORIGIN_NAMES = {
    "shipped": N_("shipped"),
    "global": N_("global"),
    "personal": N_("personal"),
}

# mailkit.outboxlog.RowState: where one message of a batch is (the journal keeps the values).
STATE_NAMES = {
    "staged": N_("being checked"),
    "queued": N_("queued"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "partial": N_("partly sent"),
    "deferred": N_("deferred"),
    "failed": N_("failed"),
    "unknown": N_("unknown"),
}

# mailkit.transports.base.SendStatus: how one message ended at the server (as the row states).
STATUS_NAMES = {
    "sent": N_("sent"),
    "partial": N_("partly sent"),
    "failed": N_("failed"),
    "deferred": N_("deferred"),
    "unknown": N_("unknown"),
}

# mailkit.delivery.Delivery: what the delivery reports say about a row ('' when none came).
DELIVERY_NAMES = {
    "delayed": N_("delayed"),
    "delivered": N_("delivered"),
    "bounced": N_("bounced"),
}

# mailkit.inbound.Outcome: what one report or reply says about one recipient.
OUTCOME_NAMES = {
    "delivered": N_("delivered"),
    "delayed": N_("delayed"),
    "bounced": N_("bounced"),
    "auto-replied": N_("auto-replied"),
    "replied": N_("replied"),
}

# mailkit.inbound.Kind: what an incoming message is.
INBOUND_KIND_NAMES = {
    "dsn": N_("delivery report"),
    "bounce": N_("bounce"),
    "auto-reply": N_("auto-reply"),
    "reply": N_("reply"),
}

# mailkit.config.DsnNotify: the delivery notifications an account asks for (stored as the seed's
# "OnFailure", ...).
DSN_NAMES = {
    "None": N_("server default"),
    "Never": N_("never"),
    "OnFailure": N_("on failure"),
    "OnSuccess": N_("on delivery"),
    "Delay": N_("on delay"),
}

# mailkit.data.fields.FieldKind: what a column holds (job files keep the values: type = "money").
FIELD_KIND_NAMES = {
    "text": N_("plain text"),
    "email": N_("e-mail address"),
    "emails": N_("e-mail addresses"),
    "pesel": N_("PESEL number"),
    "nip": N_("NIP number"),
    "iban": N_("bank account number"),
    "money": N_("amount"),
    "date": N_("date"),
    "integer": N_("whole number"),
}


def label(names: Mapping[str, str], value: str) -> str:
    """``value`` as users read it: its name from ``names``, translated; unknown values as they
    are, and '' for ''."""
    name = names.get(str(value))
    return _(name) if name else str(value)


def scope_label(value: str) -> str:
    """'global' -> 'wspólne' in Polish."""
    return label(SCOPE_NAMES, value)


def origin_label(value: str) -> str:
    """'shipped' -> 'wbudowane' in Polish."""
    return label(ORIGIN_NAMES, value)


def state_label(value: str) -> str:
    """'partial' -> 'wysłano częściowo' in Polish."""
    return label(STATE_NAMES, value)


def status_label(value: str) -> str:
    """A send result's status: 'failed' -> 'nie wysłano' in Polish."""
    return label(STATUS_NAMES, value)


def delivery_label(value: str) -> str:
    """'bounced' -> 'zwrócono' in Polish; '' stays ''."""
    return label(DELIVERY_NAMES, value)


def outcome_label(value: str) -> str:
    """'auto-replied' -> 'odpowiedziano automatycznie' in Polish."""
    return label(OUTCOME_NAMES, value)


def inbound_kind_label(value: str) -> str:
    """'dsn' -> 'raport doręczenia' in Polish."""
    return label(INBOUND_KIND_NAMES, value)


def field_kind_label(value: str) -> str:
    """'money' -> 'kwota' in Polish."""
    return label(FIELD_KIND_NAMES, value)
