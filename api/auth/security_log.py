"""Each person's security log (ADM-02): what happened to their sign-ins, keys and limits.

A person reads only their own events (row-level security on `app.security_events`);
`record` writes one inside the caller's unit of work, so an event is stored exactly
when the change it describes commits. A failed sign-in has no tenant scope yet and
goes through the definer function `app.record_failed_sign_in`, which records it only
for an email that belongs to someone. Events older than SECURITY_LOG_DAYS are
deleted by `SecurityLogPruner`, once at start-up and then every few hours.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import asyncpg

from api.db import Database
from api.db.periodic import Periodic

log = logging.getLogger(__name__)

# A device is named by its user agent, cut to this many characters; every string in
# an event's detail is cut the same way, so no caller can make a row large.
MAX_DETAIL_TEXT = 200
PRUNE_EVERY_SECONDS = 6 * 3600.0


class SecurityEventKind(StrEnum):
    SIGNED_IN = "SIGNED_IN"
    SIGN_IN_FAILED = "SIGN_IN_FAILED"
    PASSKEY_ADDED = "PASSKEY_ADDED"
    PASSKEY_REMOVED = "PASSKEY_REMOVED"
    # a passkey whose sign count went backwards: a copied authenticator (KEY-02)
    PASSKEY_CLONE_REFUSED = "PASSKEY_CLONE_REFUSED"
    BROKER_KEYS_ADDED = "BROKER_KEYS_ADDED"
    BROKER_KEYS_REPLACED = "BROKER_KEYS_REPLACED"
    BROKER_KEYS_REMOVED = "BROKER_KEYS_REMOVED"
    LIMITS_CHANGED = "LIMITS_CHANGED"
    ACCOUNT_HALTED = "ACCOUNT_HALTED"
    ACCOUNT_RESUMED = "ACCOUNT_RESUMED"
    LIVE_ORDER_CONFIRMED = "LIVE_ORDER_CONFIRMED"


@dataclass(frozen=True)
class SecurityEvent:
    id: UUID
    kind: SecurityEventKind
    detail: dict[str, Any]
    at: datetime


def device_detail(user_agent: str | None, address: str | None) -> dict[str, Any]:
    """The device and address an event came from, as its detail names them."""
    return {"device": user_agent or None, "address": address or None}


def _bounded(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value[:MAX_DETAIL_TEXT] if isinstance(value, str) else value
        for key, value in detail.items()
    }


async def record(
    conn: asyncpg.Connection, user_id: UUID, kind: SecurityEventKind, detail: Mapping[str, Any]
) -> None:
    """Store one event for `user_id` on `conn`, a unit of work in that user's tenant scope.

    `detail` must be JSON-serialisable and must never hold a secret (no key, no token,
    no password); strings are cut to MAX_DETAIL_TEXT characters.
    """
    await conn.execute(
        "insert into app.security_events (user_id, kind, detail) values ($1, $2, $3::jsonb)",
        user_id,
        SecurityEventKind(kind).value,
        json.dumps(_bounded(detail)),
    )


async def record_failed_sign_in(database: Database, email: str, detail: Mapping[str, Any]) -> None:
    """A failed sign-in, stored for the email's owner if there is one, else nowhere."""
    async with database.anonymous() as conn:
        await conn.execute(
            "select app.record_failed_sign_in($1, $2::jsonb)", email, json.dumps(_bounded(detail))
        )


async def recent(database: Database, user_id: UUID, limit: int) -> list[SecurityEvent]:
    """The user's newest events first; RLS shows no one else's."""
    async with database.tenant(user_id) as conn:
        rows = await conn.fetch(
            "select id, kind, detail, at from app.security_events where user_id = $1"
            " order by at desc, id desc limit $2",
            user_id,
            limit,
        )
    return [
        SecurityEvent(
            row["id"], SecurityEventKind(row["kind"]), json.loads(row["detail"]), row["at"]
        )
        for row in rows
    ]


async def prune(database: Database, days: int) -> int:
    """Delete every person's events older than `days` days; how many were deleted."""
    async with database.anonymous() as conn:
        deleted: int = await conn.fetchval("select app.prune_security_events($1)", days)
    return deleted


class SecurityLogPruner:
    """Deletes events past their retention: one per process, built by `Services`.

    Every process may prune; a DELETE by age is idempotent, so no lock is needed.
    """

    def __init__(self, database: Database, *, days: int, every: float = PRUNE_EVERY_SECONDS):
        self._database = database
        self._days = days
        self._periodic = Periodic(
            "security-log-pruner", self._prune, every, log, "pruning the security log failed"
        )

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _prune(self) -> None:
        deleted = await prune(self._database, self._days)
        if deleted:
            log.info("deleted %d security log events older than %d days", deleted, self._days)
