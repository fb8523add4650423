"""Header objects and folding under mailkit's policy: each distinct header parsed and folded
once per batch, with quick folders for addresses, one-line texts and Message-IDs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import policy as _policies
from email.charset import Charset
from email.header import Header
from email.headerregistry import (
    Address,
    AddressHeader,
    BaseHeader,
    HeaderRegistry,
    MessageIDHeader,
    UnstructuredHeader,
)
from typing import Any

__all__ = ["PLAIN_MSGID", "POLICY", "POLICY_UTF8", "fold_addresses", "fold_text", "plain_text"]


def fold_addresses(name: str, addresses: Iterable[Address], policy: Any) -> str:
    """``To: a,<CRLF> b``: one address per line, non-ASCII names as RFC 2047 encoded words.

    CPython's modern folder spends ~3 ms on one such header (quadratic in ``_fold_as_ew``);
    ``Address.__str__`` quotes specials and ``email.header.Header`` encodes words in microseconds.
    """
    linesep = policy.linesep
    parts = []
    for addr in addresses:
        display = addr.display_name
        if display and not display.isascii() and not policy.utf8:
            parts.append(f"{_encoded_words(display, linesep)} <{addr.addr_spec}>")
        else:
            parts.append(str(addr))
    return f"{name}: " + f",{linesep} ".join(parts) + str(linesep)


PLAIN_MSGID = re.compile(r"<[!-;=?-~]{1,200}@[!-;=?-~]{1,200}>")  # printable, no "<", ">", space


def _parse_message_id(cls: type[MessageIDHeader], value: Any, kwds: dict[str, Any]) -> None:
    """A Message-ID such as mailkit makes (``<hex@domain>``) is one ASCII token: no parse needed."""
    if isinstance(value, str) and PLAIN_MSGID.fullmatch(value):
        kwds["parse_tree"] = None
        kwds["decoded"] = value
        return
    MessageIDHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


def plain_text(text: str) -> bool:
    """True for a one-line text kept as it is (no parse tree): printable, and nothing that
    looks like an encoded word (the stock parse decodes those)."""
    return text.isprintable() and "=?" not in text


def _parse_unstructured(cls: type[UnstructuredHeader], value: Any, kwds: dict[str, Any]) -> None:
    """A one-line text such as a Subject needs no parse tree: ``fold_text`` encodes it.

    Text that looks like an encoded word keeps the stock parse, which decodes it."""
    if isinstance(value, str) and plain_text(value):
        kwds["parse_tree"] = None
        kwds["decoded"] = value
        return
    UnstructuredHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


def fold_text(name: str, text: str, policy: Any) -> str:
    """``Subject: text``, folded at spaces when ASCII, else as RFC 2047 encoded words (UTF-8).

    Much faster than the modern folder, which parses the text again."""
    linesep = policy.linesep
    if (text.isascii() or policy.utf8) and len(name) + 2 + len(text) <= policy.max_line_length:
        return f"{name}: {text}{linesep}"
    if text.isascii():
        folded = Header(text, "us-ascii", maxlinelen=policy.max_line_length, header_name=name)
        return f"{name}: {folded.encode(linesep=linesep)}{linesep}"
    return f"{name}: {_encoded_words(text, linesep)}{linesep}"


def _parse_addresses(cls: type[AddressHeader], value: Any, kwds: dict[str, Any]) -> None:
    """Address objects need no re-parse of their own text: they are folded by fold_addresses."""
    if not isinstance(value, str):
        kwds["parse_tree"] = None
    AddressHeader.parse.__func__(cls, value, kwds)  # type: ignore[attr-defined]


_UTF8 = Charset("utf-8")


_WORD_BYTES = 42  # base64 of 42 bytes + "=?utf-8?b??=" = 68 characters, so "Subject: " fits too


def _encoded_words(text: str, linesep: str) -> str:
    """RFC 2047 encoded words (UTF-8, base64), one per line, never splitting a character.

    ``email.header.Header`` measures every character of every candidate split (~0.7 ms for a
    long Polish subject); whole characters of known UTF-8 length need one pass."""
    if len(text.encode("utf-8")) <= _WORD_BYTES:
        return _UTF8.header_encode(text)
    words, start, size = [], 0, 0
    for i, char in enumerate(text):
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append(_UTF8.header_encode(text[start:i]))
            start, size = i, 0
        size += width
    words.append(_UTF8.header_encode(text[start:]))
    return f"{linesep} ".join(words)


class _Header(BaseHeader):
    """A header that folds itself once: the same From/Date/Content-Type repeat in a batch."""

    def fold(self, *, policy: Any) -> str:
        key = (policy.max_line_length, policy.linesep, policy.utf8)
        cache: dict[tuple[Any, ...], str] = self.__dict__.setdefault("_folded", {})
        if key not in cache:
            groups = getattr(self, "groups", None)
            if groups is not None and all(g.display_name is None for g in groups):  # no groups
                addresses = [a for g in groups for a in g.addresses]
                cache[key] = fold_addresses(self.name, addresses, policy)
            elif getattr(self, "_parse_tree", True) is None:  # see _parse_unstructured
                if isinstance(self, UnstructuredHeader):
                    cache[key] = fold_text(self.name, str(self), policy)
                else:  # a plain token (_parse_message_id)
                    cache[key] = f"{self.name}: {self}{policy.linesep}"
            else:
                cache[key] = super().fold(policy=policy)
        return cache[key]


class _Registry(HeaderRegistry):
    """CPython builds a new header class per header and parses equal values again; cache both.

    Header objects are immutable, so sharing one between messages is safe.
    """

    _LIMIT = 8192

    def __init__(self) -> None:
        super().__init__(base_class=_Header)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._made: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            made: type[Any] = super().__getitem__(name)
            if issubclass(made, AddressHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_addresses)})
            elif issubclass(made, MessageIDHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_message_id)})
            elif issubclass(made, UnstructuredHeader):
                made = type(made.__name__, (made,), {"parse": classmethod(_parse_unstructured)})
            cls = self._classes[key] = made
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str):
            text = value
        elif isinstance(value, Address):
            text = str(value)
        elif isinstance(value, list | tuple) and all(isinstance(v, Address) for v in value):
            text = ", ".join(str(v) for v in value)
        else:
            return super().__call__(name, value)
        key = (name, text)
        made = self._made.get(key)
        if made is None:
            if len(self._made) >= self._LIMIT:
                self._made.clear()
            made = self._made[key] = super().__call__(name, value)  # the original value
        return made


# RFC 5322 via SMTP: CRLF line ends, 78-column folding; 7bit bodies so no server needs 8BITMIME.
POLICY = _policies.SMTP.clone(header_factory=_Registry(), cte_type="7bit")
POLICY_UTF8 = _policies.SMTPUTF8.clone(header_factory=_Registry(), cte_type="7bit")
