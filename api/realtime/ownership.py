"""Who runs an account's broker stream: exactly one process, by advisory lock (RT-03).

Every server process may supervise trade-update streams, but each account
must have one stream across the deployment, or clients would see every fill
twice and the broker would see duplicate connections. A session-level
PostgreSQL advisory lock, keyed by the account id, decides: the process that
holds it owns the stream. The lock lives exactly as long as the server
session that took it, so a process that crashes or loses its connection
loses ownership with it, and another one's next attempt succeeds.

`StreamLocks` is one per process and holds all of that process's locks on
one dedicated connection (not one per account: connection count matters on
hosted PostgreSQL). If that connection drops or stops answering, every
`Ownership` taken on it is marked lost and the supervisor must stop those
streams; the check runs every `health_interval` seconds, which bounds how
long a cut-off process can go on believing it owns a stream.

Typical supervisor loop (api/broker/):

    ownership = await locks.acquire(account_id)          # waits, polling
    async with ownership:
        stream = start_stream(...)
        await first_completed(ownership.wait_lost(), stream.finished())
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from types import TracebackType
from uuid import UUID

import asyncpg

from api.db import Database
from api.realtime.connections import CONNECTION_ERRORS, backoff_delay, dedicated_connection

log = logging.getLogger(__name__)

_LOCK_NAMESPACE = b"alpaca-chat:broker-stream:"


def lock_key(account_id: UUID) -> int:
    """A stable signed 64-bit advisory-lock key for one account's stream."""
    digest = hashlib.blake2b(_LOCK_NAMESPACE + account_id.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Ownership:
    """This process owns `account_id`'s stream until `release()` or until `lost`."""

    __slots__ = ("_conn", "_locks", "_lost", "_released", "account_id")

    def __init__(self, locks: StreamLocks, account_id: UUID, conn: asyncpg.Connection) -> None:
        self._locks = locks
        self._conn = conn
        self.account_id = account_id
        self._lost = asyncio.Event()
        self._released = False

    @property
    def lost(self) -> bool:
        """True once the lock's connection is gone: stop the stream now."""
        return self._lost.is_set()

    @property
    def held(self) -> bool:
        return not self._released and not self._lost.is_set()

    async def wait_lost(self) -> None:
        await self._lost.wait()

    def _mark_lost(self) -> None:
        self._lost.set()

    async def release(self) -> None:
        """Give the account up so another process can take it at once."""
        if self._released:
            return
        self._released = True
        await self._locks._release(self)

    async def __aenter__(self) -> Ownership:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()


class StreamLocks:
    """One process's advisory locks over broker streams, on one dedicated connection."""

    def __init__(
        self,
        database: Database,
        *,
        health_interval: float = 5.0,
        health_timeout: float = 5.0,
        application_name: str = "alpaca-chat-stream-locks",
    ) -> None:
        self._database = database
        self._health_interval = health_interval
        self._health_timeout = health_timeout
        self._application_name = application_name
        self._conn: asyncpg.Connection | None = None
        self._io = asyncio.Lock()  # asyncpg runs one query at a time per connection
        self._held: dict[UUID, Ownership] = {}
        self._health: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def backend_pid(self) -> int | None:
        """Server pid of the lock connection, if open (for pg_stat_activity, and tests)."""
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None

    @property
    def owned(self) -> frozenset[UUID]:
        return frozenset(self._held)

    async def try_acquire(self, account_id: UUID) -> Ownership | None:
        """Take the account's lock if no process (this one included) holds it; else None.

        Connection failures propagate: the caller retries with backoff.
        """
        if self._closed:
            raise RuntimeError("stream locks are closed")
        async with self._io:
            # Session locks are re-entrant, so the same connection would "win" twice:
            # this process's own holdings are checked here, under the same lock.
            if account_id in self._held:
                return None
            conn = await self._connection()
            taken = await conn.fetchval(
                "select pg_try_advisory_lock($1)",
                lock_key(account_id),
                timeout=self._health_timeout,
            )
            if not taken:
                return None
            ownership = Ownership(self, account_id, conn)
            if conn.is_closed():
                ownership._mark_lost()
            else:
                self._held[account_id] = ownership
        log.info("stream locks: this process now owns the stream of account %s", account_id)
        return ownership

    async def acquire(
        self, account_id: UUID, *, poll_interval: float = 1.0, retry_cap: float = 15.0
    ) -> Ownership:
        """Wait until this process owns the account: polls, backs off on connection errors."""
        failures = 0
        while True:
            try:
                ownership = await self.try_acquire(account_id)
            except CONNECTION_ERRORS as exc:
                failures += 1
                delay = backoff_delay(failures, base=poll_interval, cap=retry_cap)
                log.warning(
                    "stream locks: could not try the lock of account %s (%s); retry in %.1fs",
                    account_id,
                    exc,
                    delay,
                )
            else:
                if ownership is not None:
                    return ownership
                failures = 0
                delay = backoff_delay(0, base=poll_interval * 2, cap=poll_interval * 2)
            await asyncio.sleep(delay)

    async def close(self) -> None:
        """Release everything and close the connection (process shutdown)."""
        self._closed = True
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health
        for ownership in list(self._held.values()):
            ownership._released = True
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # Closing the session releases all of its advisory locks at once.
            try:
                await conn.close(timeout=self._health_timeout)
            except CONNECTION_ERRORS as exc:
                log.warning("stream locks: closing the lock connection failed (%s)", exc)
                conn.terminate()

    async def _connection(self) -> asyncpg.Connection:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            return conn
        conn = await dedicated_connection(self._database, self._application_name)
        conn.add_termination_listener(self._on_terminated)
        self._conn = conn
        if self._health is None or self._health.done():
            self._health = asyncio.create_task(self._watch(), name="stream-locks-health")
        return conn

    def _on_terminated(self, conn: asyncpg.Connection) -> None:
        self._lose(conn, "the lock connection closed")

    def _lose(self, conn: asyncpg.Connection, why: str) -> None:
        if conn is self._conn:
            self._conn = None
        lost = [o for o in self._held.values() if o._conn is conn]
        for ownership in lost:
            del self._held[ownership.account_id]
            ownership._mark_lost()
        if lost:
            log.warning("stream locks: %s; ownership of %d account stream(s) lost", why, len(lost))
        if not conn.is_closed():
            conn.terminate()

    async def _release(self, ownership: Ownership) -> None:
        if self._held.get(ownership.account_id) is ownership:
            del self._held[ownership.account_id]
        if ownership.lost:
            return  # the session is gone, and its locks with it
        async with self._io:
            conn = ownership._conn
            if conn is not self._conn or conn is None or conn.is_closed():
                return
            try:
                await conn.fetchval(
                    "select pg_advisory_unlock($1)",
                    lock_key(ownership.account_id),
                    timeout=self._health_timeout,
                )
            except CONNECTION_ERRORS as exc:
                # A stuck unlock would leave the lock held by a live session: end the session.
                self._lose(conn, f"unlocking failed ({exc})")
        log.info("stream locks: released the stream of account %s", ownership.account_id)

    async def _watch(self) -> None:
        """Notice a connection that died without a FIN, so ownership is not kept by mistake."""
        while True:
            await asyncio.sleep(self._health_interval)
            conn = self._conn
            if conn is None or conn.is_closed():
                if not self._held:
                    return
                continue
            async with self._io:
                try:
                    await conn.fetchval("select 1", timeout=self._health_timeout)
                except CONNECTION_ERRORS as exc:
                    self._lose(conn, f"the lock connection stopped answering ({exc})")
