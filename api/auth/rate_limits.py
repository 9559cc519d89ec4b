"""In-process sliding windows for sign-in and sign-up (AUTH-02).

Per email (guessing one person's password) and per client address (spraying
many emails). One process keeps its own windows; with several instances the
limit is per instance, which still bounds guessing to a small multiple.
Memory is bounded: idle keys are dropped, and past `MAX_KEYS` the oldest go.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from api.errors import RateLimited

MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    events: int
    seconds: float


# Documented in README ("Limits").
SIGN_IN_FAILURES_PER_EMAIL = Limit(events=5, seconds=300)
SIGN_IN_FAILURES_PER_ADDRESS = Limit(events=30, seconds=300)
SIGN_UPS_PER_EMAIL = Limit(events=5, seconds=600)
SIGN_UPS_PER_ADDRESS = Limit(events=20, seconds=600)


class SlidingWindow:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self.limit.seconds
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        now = self._clock()
        events = self._recent(key, now)
        if events is None or len(events) < self.limit.events:
            return None
        return events[0] + self.limit.seconds - now

    def check(self, key: str) -> None:
        wait = self.retry_after(key)
        if wait is not None:
            raise RateLimited(retry_after=wait)

    def hit(self, key: str) -> None:
        now = self._clock()
        events = self._recent(key, now)
        if events is None:
            if len(self._events) >= MAX_KEYS:
                self._evict(now)
            events = self._events[key] = deque(maxlen=self.limit.events)
        events.append(now)

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._events):
            self._recent(key, now)
        # still full: forget the oldest keys (dicts keep insertion order)
        overflow = len(self._events) - MAX_KEYS // 2
        for key in list(self._events)[: max(0, overflow)]:
            del self._events[key]


class AuthLimits:
    """The four windows sign-in and sign-up consult."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.sign_in_email = SlidingWindow(SIGN_IN_FAILURES_PER_EMAIL, clock)
        self.sign_in_address = SlidingWindow(SIGN_IN_FAILURES_PER_ADDRESS, clock)
        self.sign_up_email = SlidingWindow(SIGN_UPS_PER_EMAIL, clock)
        self.sign_up_address = SlidingWindow(SIGN_UPS_PER_ADDRESS, clock)
