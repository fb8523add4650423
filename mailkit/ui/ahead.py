"""The messages next to the one on screen, built ahead in one worker thread while it is read."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from ..i18n import get_language
from ..merge import Merge
from ..preview import MessageView
from ..workbench import message_view

__all__ = ["Ahead"]


class Ahead:
    """``view(merge, key, around)``: row ``key`` as its recipient sees it, ready-made when it
    was built ahead; then the rows ``around`` it (previous, next) are started.

    Drafting a reminder with its PDF statement and reading it back costs 15-20 ms, several
    times that on a busy machine; built ahead, "Next" only has to show it.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._merge: Merge | None = None
        self._language = ""
        self._ready: dict[str, Future[MessageView]] = {}

    @property
    def ready(self) -> dict[str, Future[MessageView]]:
        """The rows built (or being built) ahead."""
        return dict(self._ready)

    def view(self, merge: Merge, key: str, around: Iterable[str]) -> MessageView:
        """Row ``key``'s message; MailkitError when it cannot be built."""
        if merge is not self._merge or get_language() != self._language:
            self._merge, self._language, self._ready = merge, get_language(), {}
        made = self._ready.pop(key, None)
        shown = made.result() if made is not None else message_view(merge, key)
        wanted = [k for k in around if k != key]
        self._ready = {k: f for k, f in self._ready.items() if k in wanted}
        for other in wanted:
            if other not in self._ready:
                self._ready[other] = self._start(merge, other)
        return shown

    def _start(self, merge: Merge, key: str) -> Future[MessageView]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailkit-ahead")
        # A copy of the context: errors come back in the app's language.
        return self._pool.submit(contextvars.copy_context().run, message_view, merge, key)
