"""A connection test as a checklist: each step as it arrives, failures with their explanation."""

from __future__ import annotations

import asyncio
import threading
from html import escape

import ipywidgets as w

from ..diagnostics import Diagnosis, Step, StepStatus
from ..i18n import _
from .kit import css

__all__ = ["Checklist"]

MARKS = {
    StepStatus.OK: "✔",
    StepStatus.WARNING: "!",
    StepStatus.FAILED: "✘",
    StepStatus.SKIPPED: "–",
}


class Checklist(w.HTML):
    """``begin(title)``, then ``add(step)`` from any thread (a test's worker calls it), then
    ``end(diagnosis)``; only the ``value`` trait changes, on the kernel's loop."""

    def __init__(self) -> None:
        super().__init__()
        css(self, "mk-checklist")
        self.title = ""
        self.steps: list[Step] = []
        self.result = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    def begin(self, title: str) -> None:
        """Start a new list; steps added later are drawn on this thread's loop."""
        self.title, self.steps, self.result = title, [], ""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._thread = threading.get_ident()
        self.draw()

    def add(self, step: Step) -> None:
        """One more step (the diagnostics' ``on_step``); safe from a worker thread."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._add, step)
        else:
            self._add(step)

    def _add(self, step: Step) -> None:
        self.steps.append(step)
        self.draw()

    def end(self, diagnosis: Diagnosis) -> None:
        """All steps, in order, and the verdict."""
        self.steps = list(diagnosis.steps)
        self.result = _("Connection test passed.") if diagnosis.ok else _("Connection test failed.")
        self.draw()

    def draw(self) -> None:
        """The list as HTML (escaped)."""
        items = [_item(step) for step in self.steps]
        verdict = ""
        if self.result:
            kind = "error" if self._failed() else "ok"
            verdict = f'<p class="mk-{kind} mk-verdict">{escape(self.result)}</p>'
        elif self.title:
            pending = escape(_("checking…"))
            items.append(f'<li class="mk-step mk-pending">{pending}</li>')
        head = f"<h4>{escape(self.title)}</h4>" if self.title else ""
        self.value = f'{head}<ul class="mk-steps">{"".join(items)}</ul>{verdict}'

    def _failed(self) -> bool:
        return any(s.status is StepStatus.FAILED for s in self.steps)


def _item(step: Step) -> str:
    status = step.status.value
    line = f"{MARKS[step.status]} {step.title}"
    detail = f": {escape(step.detail)}" if step.detail else ""
    more = ""
    if step.problem is not None:
        causes = "".join(f"<li>{escape(c)}</li>" for c in step.problem.causes)
        actions = "".join(f"<li>{escape(a)}</li>" for a in step.problem.actions)
        why, what = escape(_("Likely causes:")), escape(_("What to do:"))
        more = (
            f'<div class="mk-explain"><b>{why}</b><ul>{causes}</ul>'
            f"<b>{what}</b><ul>{actions}</ul></div>"
        )
    return (
        f'<li class="mk-step mk-step-{status}" data-step="{escape(step.name)}">'
        f"<b>{escape(line)}</b>{detail}{more}</li>"
    )
