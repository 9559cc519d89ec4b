"""Ends every WebSocket of a session within a second of sign-out (AUTH-03).

Each process keeps a registry of its open, authenticated WebSockets by
session. Sign-out publishes a `SessionRevokedEvent` inside the revoking
transaction (delivered at commit, on every process's event bus): each
process closes that session's sockets the moment the event arrives, and its
bus ends the session's subscriptions. Two slower paths cover what an event
cannot: a session that expires (nobody signs it out) and events missed while
a process's listening connection was down. For both, one query every
`RECHECK_INTERVAL` seconds, and once right after the bus reconnects, asks
`app.session_user_id` about every token this process holds open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from api.db import Database

log = logging.getLogger(__name__)

RECHECK_INTERVAL = 30.0  # expiry only: revocation travels on the bus
CLOSE_CODE_SESSION_ENDED = 4401

Closer = Callable[[], Awaitable[None]]


@dataclass
class _Session:
    token_hash: bytes
    closers: set[Closer] = field(default_factory=set)


class LiveSessions:
    """This process's open WebSockets by session; a `SessionWatcher` of the event bus."""

    def __init__(self, database: Database, interval: float = RECHECK_INTERVAL) -> None:
        self._database = database
        self._interval = interval
        self._sessions: dict[UUID, _Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Sessions being closed now: a second `end` (the revoking request's, after the bus
        # already heard the revocation) waits for the same closing instead of returning early.
        self._ending: dict[UUID, asyncio.Future[None]] = {}

    def add(self, session_id: UUID, token_hash: bytes, close: Closer) -> None:
        self._sessions.setdefault(session_id, _Session(token_hash)).closers.add(close)

    def discard(self, session_id: UUID, close: Closer) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.closers.discard(close)
            if not session.closers:
                del self._sessions[session_id]

    def __len__(self) -> int:
        return sum(len(s.closers) for s in self._sessions.values())

    async def end(self, session_id: UUID) -> None:
        """Close every connection of this session held by this process; returns once they
        are closed, whoever started closing them."""
        ending = self._ending.get(session_id)
        if ending is None:
            session = self._sessions.pop(session_id, None)
            if session is None:
                return
            ending = asyncio.ensure_future(self._close(session))
            self._ending[session_id] = ending
            ending.add_done_callback(lambda _: self._ending.pop(session_id, None))
        await asyncio.shield(ending)

    @staticmethod
    async def _close(session: _Session) -> None:
        results = await asyncio.gather(
            *(close() for close in session.closers), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                log.warning("closing a WebSocket of an ended session failed: %r", result)

    # -- SessionWatcher: called by the event bus, synchronously --------------

    def session_revoked(self, session_id: UUID) -> None:
        if session_id in self._sessions:
            self._spawn(self.end(session_id))

    def bus_reconnected(self) -> None:
        self._spawn(self._recheck_logged())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the slow path ---------------------------------------------------------

    async def recheck(self) -> None:
        """Close the sockets of every session that no longer authenticates."""
        if not self._sessions:
            return
        by_hash = {s.token_hash: sid for sid, s in self._sessions.items()}
        rows = await self._database.pool.fetch(
            "select h from unnest($1::bytea[]) as h where app.session_user_id(h) is null",
            list(by_hash),
        )
        for row in rows:
            await self.end(by_hash[row["h"]])

    async def _recheck_logged(self) -> None:
        try:
            await self.recheck()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # keep connections through a database blip; the next tick retries
            log.warning("session re-check failed: %s", type(error).__name__)

    async def run(self) -> None:
        """The per-process expiry watcher; runs until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self._recheck_logged()
