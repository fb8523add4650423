"""A question on the page with two answers; awaited by the task that asked it."""

from __future__ import annotations

import asyncio
import html

import ipywidgets as w

from ..i18n import N_
from .kit import Labels, button, css

__all__ = ["Confirm"]


class Confirm(w.VBox):
    """``await confirm.ask(text)`` shows ``text`` with two buttons ("Yes, send" / "Do not send"
    unless told other msgids) and returns True only for yes; the kernel's loop runs meanwhile."""

    def __init__(
        self,
        labels: Labels,
        name: str,
        yes: str = N_("Yes, send"),
        no: str = N_("Do not send"),
    ) -> None:
        self.question = css(w.HTML(), "mk-confirm-text")
        self.yes = button("mk-confirm-yes", f"mk-{name}-yes", primary=True)
        self.no = button("mk-confirm-no", f"mk-{name}-no")
        labels.text(self.yes, yes)
        labels.text(self.no, no)
        self.yes.on_click(lambda _b: self.answer(True))
        self.no.on_click(lambda _b: self.answer(False))
        super().__init__([self.question, w.HBox([self.yes, self.no])])
        css(self, "mk-confirm", f"mk-confirm-{name}")
        self.layout.display = "none"
        self._future: asyncio.Future[bool] | None = None

    @property
    def asking(self) -> bool:
        """True while a question waits for its answer."""
        return self._future is not None and not self._future.done()

    async def ask(self, text: str) -> bool:
        """Show ``text`` (plain, escaped) and wait for the answer."""
        self.answer(False)  # an older question is answered no
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._future = future
        self.question.value = f'<div class="mk-question">{html.escape(text)}</div>'
        self.layout.display = "flex"
        try:
            return await future
        finally:
            if self._future is future:
                self.layout.display = "none"
                self.question.value = ""

    def answer(self, yes: bool) -> None:
        """Answer the open question (no question: nothing happens)."""
        if self._future is not None and not self._future.done():
            self._future.set_result(yes)
