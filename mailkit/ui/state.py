"""The state every tab shares: language, privacy mode, the prepared merge, its report, the row."""

from __future__ import annotations

import os

from traitlets import Bool, HasTraits, Instance, Int, TraitError, Unicode, validate

from ..i18n import LANGUAGES
from ..identity import SenderIdentity
from ..merge import Merge
from ..preflight import PreflightReport

__all__ = ["AppState", "default_language"]


def default_language() -> str:
    """``MAILKIT_LANG`` when it names a supported language, else Polish (the users' language)."""
    lang = os.environ.get("MAILKIT_LANG", "")[:2].lower()
    return lang if lang in LANGUAGES else "pl"


class AppState(HasTraits):
    """What the tabs observe; a tab changes it and never reaches into another tab."""

    language = Unicode(help="'pl' or 'en': the language of every label and message")
    privacy = Bool(False, help="mask e-mail addresses, PESEL numbers and amounts in lists")
    merge = Instance(Merge, allow_none=True, help="the job prepared with its table and template")
    report = Instance(PreflightReport, allow_none=True, help="preflight of the current merge")
    row = Unicode("", help="the key of the row being looked at")
    identity = Instance(
        SenderIdentity, allow_none=True, help="who sends (a sender rule's result); None: the job"
    )
    journal = Int(0, help="counts changes of the outbox journal (a send ran or progressed)")
    accounts = Int(0, help="counts changes of the saved accounts")

    def __init__(self, language: str | None = None, **kwargs: object) -> None:
        super().__init__(language=language or default_language(), **kwargs)

    @validate("language")
    def _valid_language(self, proposal: dict[str, object]) -> str:
        value = str(proposal["value"])[:2].lower()
        if value not in LANGUAGES:
            raise TraitError(f"language must be one of {', '.join(LANGUAGES)}")
        return value

    def use(self, merge: Merge) -> None:
        """Make ``merge`` the current one: its report is stale, its first row is current."""
        keys = merge.keys()
        with self.hold_trait_notifications():
            self.report = None
            self.merge = merge
            self.row = self.row if self.row in set(keys) else (keys[0] if keys else "")
