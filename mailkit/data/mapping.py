"""Suggest which of a file's own headers (e.g. 'E-mail pracownika') holds each field a job needs."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["SYNONYMS", "suggest_mapping"]

# Headers seen in Polish and English ERP and payroll exports, by the field they hold.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e mail", "adres email", "email pracownika", "email kontrahenta", "mail"),
    "cc": ("dw", "cc", "kopia"),
    "bcc": ("udw", "bcc", "ukryta kopia"),
    "pesel": ("pesel",),
    "nip": ("nip", "nip nabywcy", "nip kontrahenta", "vat id", "tax id"),
    "kontrahent": ("kontrahent", "nabywca", "nazwa", "nazwa kontrahenta", "customer", "odbiorca"),
    "imię": ("imie", "first name", "given name"),
    "nazwisko": ("nazwisko", "last name", "surname"),
    "numer": ("numer", "numer faktury", "nr faktury", "numer dokumentu", "invoice number", "nr"),
    "z_dnia": ("data wystawienia", "z dnia", "issue date", "data dokumentu"),
    "termin": ("termin platnosci", "termin", "due date", "data platnosci"),
    "brutto": ("kwota brutto", "brutto", "wartosc brutto", "gross", "amount"),
    "zapłacono": ("zaplacono", "wplacono", "paid", "amount paid", "rozliczono"),
    "umowa": ("umowa", "numer umowy", "contract"),
    "id": ("nr ewidencyjny", "id pracownika", "employee id", "identyfikator", "kod"),
}


def _norm(text: str) -> str:
    """Casefolded, without diacritics or punctuation: 'E-mail pracownika' -> 'email pracownika'."""
    text = text.replace("ł", "l").replace("Ł", "L")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = plain.casefold().replace("-", "")  # 'e-mail' and 'email' are the same header
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", plain).split())


def _score(header: str, synonyms: Iterable[str]) -> float:
    norm = _norm(header)
    best = 0.0
    for syn in synonyms:
        if norm == syn:
            return 1.0
        if norm.startswith(syn + " ") or norm.endswith(" " + syn):
            best = max(best, 0.9)
        best = max(best, difflib.SequenceMatcher(None, norm, syn).ratio() * 0.85)
    return best


def suggest_mapping(headers: Iterable[str], fields: Iterable[str]) -> dict[str, str]:
    """Best header for each field (only confident matches; each header used once)."""
    headers = list(headers)
    scored = []
    for field in fields:
        synonyms = SYNONYMS.get(field, (_norm(field),))
        for header in headers:
            score = _score(header, synonyms)
            if score >= 0.75:
                scored.append((score, field, header))
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _best, field, header in sorted(scored, key=lambda s: -s[0]):
        if field not in mapping and header not in used:
            mapping[field] = header
            used.add(header)
    return mapping
