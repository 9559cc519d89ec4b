"""What a database outage looks like, and the one log line per change of it.

When PostgreSQL is down, restarting or out of disk, every request fails the
same way. That is not a bug per request: clients get SERVICE_UNAVAILABLE
(a coded error, see docs/architecture.md, "The public contract in brief") and
operators get one line when the database goes and one when it is back, not a
traceback per request.

An outage is: no connection (refused, reset, closed under us), PostgreSQL
class 08 (connection exception), 53 (insufficient resources: disk full, out of
memory, too many connections) or 57P (the server is shutting down or starting).
"""

from __future__ import annotations

import logging
import time

import asyncpg

log = logging.getLogger(__name__)

_OUTAGE_CLASSES = ("08", "53", "57P")


def is_outage(error: BaseException | None) -> bool:
    """True when ``error`` (or what caused it) says the database is out of reach or full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, asyncpg.PostgresError):
            state = getattr(error, "sqlstate", None) or ""
            if state.startswith(_OUTAGE_CLASSES):
                return True
        elif isinstance(error, (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)):
            return True
        error = error.__cause__ or error.__context__
    return False


class OutageLog:
    """Logs the database's state changes once each: down (with why), then back."""

    def __init__(self) -> None:
        self._down_since: float | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, error: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error("database unavailable (%s); answering SERVICE_UNAVAILABLE", _why(error))

    def answered(self) -> None:
        if self._down_since is not None:
            seconds = time.monotonic() - self._down_since
            self._down_since = None
            log.warning("database available again after %.1f s", seconds)


def _why(error: BaseException) -> str:
    state = getattr(error, "sqlstate", None)
    return f"{type(error).__name__} {state}" if state else type(error).__name__
