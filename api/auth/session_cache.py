"""The sessions this process authenticated a moment ago: one round trip less per request.

Every request names its session by token, and `app.session_of` answers who it is
(api/auth/sessions.py). This cache keeps that answer per token hash for at most
`TTL_SECONDS`, and never past the session's expiry, so most requests skip the
round trip before their tenant transaction. It stays exact (AUTH-03) because it
hears of every revocation:
- sign-out and disabling a user publish a `SessionRevokedEvent` in the revoking
  transaction; at commit it reaches every process's event bus, whose watcher
  (this cache) drops the session at once; the revoking process also drops it
  itself before it answers, so its own next request is refused too;
- while the bus is not listening, events may be missed: the cache answers
  nothing then, and is emptied when the bus listens again;
- a lookup that was under way while a revocation arrived is not remembered
  (`revision`): its answer may predate the revocation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from api.auth.sessions import Principal

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    until: float  # on the monotonic clock


class SessionCache:
    """Principals by token hash; a `SessionWatcher` of the event bus (api/realtime/bus.py)."""

    def __init__(
        self,
        is_listening: Callable[[], bool],
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_listening = is_listening
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[bytes, _Entry] = {}
        self._by_session: dict[UUID, set[bytes]] = {}
        self._revision = 0

    @property
    def revision(self) -> int:
        """Moves on every revocation and every emptying: read it before a lookup."""
        return self._revision

    def get(self, token_hash: bytes) -> Principal | None:
        if not self._is_listening():
            return None
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry.until <= self._clock():
            self._drop(token_hash)
            return None
        return entry.principal

    def remember(self, principal: Principal, expires_at: datetime, since: int) -> None:
        """Keep `principal`, looked up after `revision` was `since`, until it must be asked
        again: after the TTL or at the session's expiry (by this machine's clock, which
        matters only within the TTL of an expiry), whichever comes first."""
        if since != self._revision or not self._is_listening():
            return
        left = min(self._ttl, (expires_at - datetime.now(UTC)).total_seconds())
        if left <= 0:
            return
        if len(self._entries) >= self._max_entries:
            self._drop(next(iter(self._entries)))  # the oldest: dicts keep insertion order
        token_hash = principal.token_hash
        self._entries[token_hash] = _Entry(principal, self._clock() + left)
        self._by_session.setdefault(principal.session_id, set()).add(token_hash)

    def forget_session(self, session_id: UUID) -> None:
        self._revision += 1
        for token_hash in self._by_session.pop(session_id, ()):
            self._entries.pop(token_hash, None)

    def clear(self) -> None:
        self._revision += 1
        self._entries.clear()
        self._by_session.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, token_hash: bytes) -> None:
        entry = self._entries.pop(token_hash)
        hashes = self._by_session.get(entry.principal.session_id)
        if hashes is not None:
            hashes.discard(token_hash)
            if not hashes:
                del self._by_session[entry.principal.session_id]

    # -- SessionWatcher: called by the event bus, synchronously --------------

    def session_revoked(self, session_id: UUID) -> None:
        self.forget_session(session_id)

    def bus_reconnected(self) -> None:
        self.clear()
