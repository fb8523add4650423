"""The Templates tab: edit the job's template with a macro palette and a live preview on a row."""

from __future__ import annotations

from html import escape
from typing import ClassVar

import ipywidgets as w

from .. import catalog
from ..catalog import CatalogTemplate, Listed
from ..errors import ConfigError, MailkitError
from ..i18n import N_, _
from ..labels import origin_label
from ..store import Scope, SettingsStore
from ..templates import TemplateSource
from ..workbench import (
    catalogue_templates,
    macro_palette,
    render_row,
    retemplate,
    template_type,
    type_choices,
)
from .editor import MacroPalette, MessageEditor
from .html import message_frame, text_block
from .kit import Panel, button, choose, css
from .state import AppState

__all__ = ["TemplatesTab"]

ROWS_OFFERED = 1000  # rows listed for the preview; others are reached from the Preview tab


class TemplatesTab(Panel):
    """Edit subject, text and HTML; macros from a palette; a live preview on a chosen row;
    message types and stored templates from the catalogue (default flag, personal or global)."""

    title: ClassVar[str] = N_("Templates")
    css_name: ClassVar[str] = "mk-templates"

    def __init__(self, state: AppState, store: SettingsStore | None = None) -> None:
        super().__init__(state)
        self.store = store
        self.listed: list[Listed[CatalogTemplate]] = []  # what the template list offers
        lab = self.labels
        self.kind = css(w.Dropdown(layout=w.Layout(width="460px")), "mk-type")
        self.stored = css(w.Dropdown(layout=w.Layout(width="500px")), "mk-catalog-template")
        self.load_button = button("mk-load-template")
        self.editor = MessageEditor(lab, self.guard)
        self.language = css(w.ToggleButtons(), "mk-template-language")
        self.palette = MacroPalette(lab)
        self.error = css(w.HTML(), "mk-template-error")
        self.row = css(w.Dropdown(layout=w.Layout(width="380px")), "mk-template-row")
        self.format = css(w.ToggleButtons(), "mk-template-format")
        self.preview = css(w.HTML(), "mk-template-preview")
        self.apply_button = button("mk-apply-template", primary=True)
        self.revert_button = button("mk-revert-template")
        self.save_name = css(w.Text(layout=w.Layout(width="500px")), "mk-save-name")
        self.scope = css(w.ToggleButtons(), "mk-save-scope")
        self.default = css(w.Checkbox(indent=False), "mk-default")
        self.save_button = button("mk-save-template")
        self._label_widgets()
        self.children = [
            w.HBox([self.kind, self.stored, self.load_button]),
            self.notice,
            self.editor,
            self.language,
            self.error,
            w.HBox([self.apply_button, self.revert_button]),
            lab.heading(N_("Macros")),
            self.palette,
            lab.heading(N_("Preview on a row")),
            w.HBox([self.row, self.format]),
            self.preview,
            lab.heading(N_("Save in the catalogue")),
            w.HBox([self.save_name, self.scope, self.default, self.save_button]),
        ]
        self._wire()
        self.list_types()

    def _label_widgets(self) -> None:
        lab = self.labels
        lab.text(self.kind, N_("Message type"))
        lab.text(self.stored, N_("Template"))
        lab.text(self.load_button, N_("Insert into the editor"))
        lab.options(self.language, [(N_("Polish"), "pl"), (N_("English"), "en")])
        lab.text(self.language, N_("Written in"))
        lab.text(self.row, N_("Row"))
        lab.options(self.format, [(N_("HTML"), "html"), (N_("Text"), "text")])
        lab.text(self.apply_button, N_("Use for this job"))
        lab.text(self.revert_button, N_("Undo changes"))
        lab.text(self.save_name, N_("Name"))
        lab.options(
            self.scope, [(N_("Only for me"), Scope.PERSONAL), (N_("For everyone"), Scope.GLOBAL)]
        )
        lab.text(self.default, N_("Default for its type"))
        lab.text(self.save_button, N_("Save"))

    def _wire(self) -> None:
        for trait in ("subject", "text", "html"):
            self.on_change(self.editor, lambda _v: self.live(), trait)
        self.on_change(self.language, lambda _v: self.live())
        self.on_change(self.format, lambda _v: self.live())
        self.on_change(self.row, self._row_chosen)
        self.on_change(self.kind, lambda _v: self.list_templates())
        self.on_click(self.load_button, self.insert_stored)
        self.on_click(self.palette.insert_button, self.insert_macro)
        self.on_click(self.apply_button, self.apply)
        self.on_click(self.revert_button, self.revert)
        self.on_click(self.save_button, self.save)
        self.watch("merge", self.merge_changed)
        self.watch("row", self._follow_row)

    # -- the job's template -------------------------------------------------------------

    def source(self) -> TemplateSource:
        """What the editor holds, as a template source."""
        merge = self.state.merge
        name = merge.job.template.name if merge is not None else ""
        ed = self.editor
        return TemplateSource(ed.subject, ed.text, ed.html, name, self.language.value or "pl")

    def merge_changed(self) -> None:
        """A new job or table: offer its rows and macros; load its template unless unchanged."""
        merge = self.state.merge
        if merge is None:
            return
        fresh = self.source() != merge.job.template
        with self.quietly():
            choose(self.row, merge.keys()[:ROWS_OFFERED], self.state.row)
            self.palette.show(macro_palette(merge))
            if fresh:
                self.revert()
        if fresh:
            self._pick_type(merge.job.template.name)
        self.live()

    def _pick_type(self, name: str) -> None:
        """Show the catalogue at the job's own template, when it comes from there."""
        found = template_type(self.store, name)
        if found and found in {v for _label, v in self.kind.options}:
            self.kind.value = found
            names = [t.item.name for t in self.listed]
            if name in names:
                self.stored.value = names.index(name)

    def revert(self) -> None:
        """Put the job's own template back into the editor."""
        merge = self.state.merge
        if merge is None:
            return
        src = merge.job.template
        self.language.value = src.language if src.language in ("pl", "en") else "pl"
        self.editor.fill(src.subject, src.text, src.html)
        self.save_name.value = src.name

    def live(self) -> None:
        """Fill the editor's template in for the chosen row; show what is wrong inline."""
        merge, key = self.state.merge, self.row.value
        if merge is None or not key:
            return
        try:
            rendered = render_row(merge, self.source(), key)
        except MailkitError as err:
            self.error.value = f'<p class="mk-error">{escape(err.message)}</p>'
            return
        self.error.value = ""
        if self.format.value == "html" and rendered.html is not None:
            self.preview.value = message_frame(rendered.html, height=380)
        else:
            subject = _("Subject: {subject}").format(subject=rendered.subject)
            self.preview.value = text_block(subject + "\n\n" + rendered.text)

    def apply(self) -> None:
        """Use the edited template for this job: previews, checks and sending follow it."""
        merge = self.state.merge
        if merge is None:
            raise ConfigError(_("Load a job on the Data tab first."))
        self.state.use(retemplate(merge, self.source()))
        self.notice.show(lambda: _("The job now uses this template; checking every message."), "ok")

    def insert_macro(self) -> None:
        """Add the palette's chosen macro at the end of the chosen field."""
        entry = self.palette.chosen
        if entry is not None:
            self.editor.append(self.palette.target.value, entry.text)

    def _row_chosen(self, key: str | None) -> None:
        if key and key != self.state.row:
            self.state.row = key
        self.live()

    def _follow_row(self) -> None:
        if self.state.row in self.row.options:
            self.row.value = self.state.row

    # -- the catalogue (message types, stored templates) --------------------------------

    def list_types(self) -> None:
        """Offer the message types of the catalogue."""
        with self.quietly():
            choose(self.kind, type_choices(self.store, self.state.language), self.kind.value)
        self.list_templates()

    def list_templates(self) -> None:
        """Offer the templates of the chosen type (default ones marked with ★)."""
        keep = self._chosen()
        self.listed = catalogue_templates(self.store, type=self.kind.value or None)
        options = [
            (
                f"{'★ ' if t.item.default else ''}{t.item.name} ({t.item.language}, "
                f"{origin_label(t.origin)})",
                i,
            )
            for i, t in enumerate(self.listed)
        ]
        at = [(t.item.name, t.origin) for t in self.listed]
        choose(self.stored, options, at.index(keep) if keep in at else None)

    def _chosen(self) -> tuple[str, str] | None:
        index = self.stored.value
        if index is None or index >= len(self.listed):
            return None
        return (self.listed[index].item.name, self.listed[index].origin)

    def insert_stored(self) -> None:
        """Replace the editor's content with the chosen stored template."""
        index = self.stored.value
        if index is None:
            return
        item = self.listed[index].item
        self.language.value = item.language if item.language in ("pl", "en") else "pl"
        self.editor.fill(item.subject, item.text, item.html)
        self.save_name.value = item.name
        self.default.value = item.default
        self.notice.show(
            lambda: _("Inserted {name}; Use for this job to send with it.").format(name=item.name),
            "info",
        )

    def save(self) -> None:
        """Store the editor's template in the catalogue under the name, type and scope chosen."""
        if self.store is None:
            raise ConfigError(_("There is no settings store here, so templates cannot be saved."))
        src = self.source()
        item = CatalogTemplate(
            name=self.save_name.value.strip(),
            type=self.kind.value or "",
            subject=src.subject,
            text=src.text,
            html=src.html,
            language=src.language,
            default=bool(self.default.value),
        )
        catalog.save_template(self.store, item, Scope(self.scope.value))
        self.list_templates()
        self.notice.show(lambda: _("Saved {name}.").format(name=item.name), "ok")

    def reread(self) -> None:
        """Offer the message types and templates saved since (the editor is left alone)."""
        self.list_types()

    def refresh(self) -> None:
        """Relabel the types and redraw the preview in the new language."""
        self.list_types()
        self.editor.count()
        self.live()
