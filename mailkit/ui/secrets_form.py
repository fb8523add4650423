"""The missing secrets of a support bundle: one password box each, then import the bundle."""

from __future__ import annotations

from html import escape
from typing import ClassVar

import ipywidgets as w

from ..bundle import ImportResult, SecretNeed
from ..config import Secret
from ..i18n import N_, _
from ..reproduce import Reproduction
from .kit import Panel, button, css
from .state import AppState

__all__ = ["SecretsForm"]


class SecretsForm(Panel):
    """A password box per missing secret (account, field, login, host) and "Import"; the boxes
    are emptied as soon as they are read, whatever happens next."""

    title: ClassVar[str] = N_("Missing secrets")
    css_name: ClassVar[str] = "mk-secrets-form"

    def __init__(self, reproduction: Reproduction, state: AppState | None = None) -> None:
        super().__init__(state or AppState())
        self.reproduction = reproduction
        self.result: ImportResult | None = None
        self.boxes: dict[tuple[str, str], w.Password] = {}
        self.heading = self.labels.heading(self.title)
        self.rows = css(w.VBox(), "mk-secret-rows")
        self.import_button = button("mk-import-bundle", primary=True)
        self.labels.text(self.import_button, N_("Import the bundle"))
        self.on_click(self.import_button, self.import_bundle)
        self.children = [self.heading, self.rows, self.import_button, self.notice]
        self.guard(self.refresh)()

    def refresh(self) -> None:
        """One row per secret still missing (boxes empty), or a line saying none is."""
        needs = self.reproduction.needs()
        self.boxes = {}
        rows: list[w.Widget] = []
        for need in needs:
            box = css(w.Password(layout=w.Layout(width="28em")), "mk-secret")
            self.boxes[(need.account, need.field)] = box
            label = css(w.HTML(_label(need)), "mk-secret-label")
            rows.append(w.HBox([label, box]))
        if not needs:
            text = escape(_("No secret is missing."))
            rows.append(css(w.HTML(f'<p class="mk-ok">{text}</p>'), "mk-no-secret"))
        self.rows.children = rows

    def take(self) -> dict[tuple[str, str], Secret]:
        """The typed secrets, and every box emptied at once (widget state never keeps them)."""
        typed = {}
        for need, box in self.boxes.items():
            if box.value:
                typed[need] = Secret(box.value)
            box.value = ""
        return typed

    def import_bundle(self) -> None:
        """Import the bundle with the typed secrets; say what came in and what is missing."""
        typed = self.take()
        self.result = result = self.reproduction.import_secrets(typed)
        self.refresh()
        missing = ", ".join(f"{n.account} {n.field}" for n in result.still_missing)

        def text() -> str:
            done = _("Imported {a} account(s), {t} template(s), {y} type(s), {j} job(s).").format(
                a=len(result.accounts), t=len(result.templates), y=len(result.types),
                j=len(result.jobs),
            )  # fmt: skip
            return (
                done + " " + _("Still missing: {missing}.").format(missing=missing)
                if missing
                else done
            )

        self.notice.show(text, "warning" if missing else "ok")


def _label(need: SecretNeed) -> str:
    text = _("{account}: {field} for {login} at {host}").format(
        account=need.account, field=need.field, login=need.login or "-", host=need.host or "-"
    )
    return f"<span>{escape(text)}</span>"
