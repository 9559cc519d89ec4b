"""How many WebSockets are open, per user and per client address, in this process.

Each open socket holds memory, a task and (once subscribed) a place on the event
bus, so nobody may hold an unbounded number: /graphql (schema/endpoint.py) refuses
a handshake past `Settings.websockets_per_address` (HTTP 403) and a
connection_init past `Settings.websockets_per_user` (close 4403). The caps are
per process, like the sign-in limits (README, "Limits").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


class OpenSockets(Generic[Key]):
    """Open sockets by key, at most `limit` per key."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[Key] = Counter()

    def admit(self, key: Key) -> bool:
        """Count one more socket for `key`; False (and nothing counted) past the limit."""
        if self._open[key] >= self.limit:
            return False
        self._open[key] += 1
        return True

    def release(self, key: Key) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]

    def __len__(self) -> int:
        return self._open.total()
