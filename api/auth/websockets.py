"""Ends every WebSocket of a session within a second of sign-out (AUTH-03).

Each process keeps a registry of its open, authenticated WebSockets keyed by
the session's token hash. Sign-out in this process closes them at once.
Sign-out in another process (or expiry) is caught by one query every
`RECHECK_INTERVAL` seconds that asks `app.session_user_id` about every
session this process holds open, whatever their number. When the
LISTEN/NOTIFY bus exists, it will carry sign-outs and this poll can slow down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from api.db import Database

log = logging.getLogger(__name__)

RECHECK_INTERVAL = 0.5
CLOSE_CODE_SESSION_ENDED = 4401

Closer = Callable[[], Awaitable[None]]


class LiveSessions:
    def __init__(self, database: Database, interval: float = RECHECK_INTERVAL) -> None:
        self._database = database
        self._interval = interval
        self._closers: dict[bytes, set[Closer]] = {}

    def add(self, token_hash: bytes, close: Closer) -> None:
        self._closers.setdefault(token_hash, set()).add(close)

    def discard(self, token_hash: bytes, close: Closer) -> None:
        closers = self._closers.get(token_hash)
        if closers is not None:
            closers.discard(close)
            if not closers:
                del self._closers[token_hash]

    def __len__(self) -> int:
        return sum(len(c) for c in self._closers.values())

    async def end(self, token_hash: bytes) -> None:
        """Close every connection of this session held by this process."""
        closers = self._closers.pop(token_hash, set())
        results = await asyncio.gather(*(close() for close in closers), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("closing a WebSocket of an ended session failed: %r", result)

    async def recheck(self) -> None:
        if not self._closers:
            return
        rows = await self._database.pool.fetch(
            "select h from unnest($1::bytea[]) as h where app.session_user_id(h) is null",
            list(self._closers),
        )
        for row in rows:
            await self.end(row["h"])

    async def run(self) -> None:
        """The per-process watcher; runs until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.recheck()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # keep connections through a database blip; the next tick retries
                log.warning("session re-check failed: %s", type(error).__name__)
