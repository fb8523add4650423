"""Client-side sending limits per account (sliding windows) and the whole-batch pause."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable

from .config import RateLimits

__all__ = ["BatchPause", "RateLimiter"]

Clock = Callable[[], float]


class _Window:
    """Recipients counted over the last ``span`` seconds against ``limit``."""

    def __init__(self, span: float, limit: int) -> None:
        self.span = span
        self.limit = limit
        self.events: deque[tuple[float, int]] = deque()
        self.total = 0

    def _expire(self, now: float) -> None:
        while self.events and self.events[0][0] <= now - self.span:
            self.total -= self.events.popleft()[1]

    def wait(self, n: int, now: float) -> float:
        """Seconds until ``n`` more fit (0 when they fit now)."""
        self._expire(now)
        if self.total + n <= self.limit or not self.events:
            return 0.0  # a message larger than the limit goes alone into an empty window
        excess = self.total + n - self.limit
        for at, count in self.events:
            excess -= count
            if excess <= 0:
                return at + self.span - now
        return self.events[-1][0] + self.span - now

    def add(self, n: int, now: float) -> None:
        self.events.append((now, n))
        self.total += n


class RateLimiter:
    """Per minute / hour / day limits on recipients sent by one account; 0 means none.

    Recipients rather than messages are counted, as providers do (Gmail, Exchange Online):
    a message to three addresses uses three. ``history`` (time, recipients) seeds the windows
    with what the account already sent, so a resumed batch does not exceed the daily limit.
    """

    def __init__(
        self,
        limits: RateLimits,
        history: Iterable[tuple[float, int]] = (),
        clock: Clock = time.time,
    ) -> None:
        self.limits = limits
        self.clock = clock
        spans = ((60.0, limits.per_minute), (3600.0, limits.per_hour), (86400.0, limits.per_day))
        self.windows = [_Window(span, limit) for span, limit in spans if limit]
        now = clock()
        for at, n in history:
            if at > now - 86400:
                for window in self.windows:
                    window.add(n, at)

    def wait_time(self, n: int = 1) -> float:
        """Seconds to wait before ``n`` recipients may be sent."""
        now = self.clock()
        return max((w.wait(n, now) for w in self.windows), default=0.0)

    def take(self, n: int = 1) -> None:
        """Count ``n`` recipients as sent now."""
        now = self.clock()
        for window in self.windows:
            window.add(n, now)

    async def acquire(self, n: int = 1, *, max_wait: float = float("inf")) -> float:
        """Wait until ``n`` recipients fit, then count them; returns 0.

        When the wait would exceed ``max_wait`` nothing is counted and the wait is returned,
        so the caller can stop the batch instead of sleeping until tomorrow.
        """
        while True:
            wait = self.wait_time(n)
            if wait <= 0:
                self.take(n)
                return 0.0
            if wait > max_wait:
                return wait
            await asyncio.sleep(wait)


class BatchPause:
    """One pause for every connection of a batch, with exponential backoff.

    A 421 or 4.7.x to one connection pauses them all: pausing only that row makes the other
    connections provoke a storm of further 421s (RELIABILITY.md).
    """

    def __init__(
        self, first: float = 2.0, longest: float = 300.0, clock: Clock = time.monotonic
    ) -> None:
        self.first = first
        self.longest = longest
        self.clock = clock
        self.until: float = 0.0
        self.strikes = 0

    def trip(self) -> float:
        """Pause everyone; each trip in a row doubles the pause. Returns its length."""
        delay: float = min(self.first * 2.0**self.strikes, self.longest)
        self.strikes += 1
        self.until = max(self.until, self.clock() + delay)
        return delay

    def ok(self) -> None:
        """A message went through: the next trouble starts from the first delay again."""
        self.strikes = 0

    @property
    def remaining(self) -> float:
        """Seconds left in the current pause."""
        return max(0.0, self.until - self.clock())

    async def wait(self) -> None:
        """Sleep while paused."""
        while (left := self.remaining) > 0:
            await asyncio.sleep(left)
