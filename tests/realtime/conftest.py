"""Two event buses on one database: as far as LISTEN/NOTIFY goes, two server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.db import Database
from api.realtime import EventBus
from tests.fixtures.postgres import runtime_database_url

# Short health checks and backoff so reconnect tests take a second, not a minute.
FAST = {"reconnect_base": 0.05, "reconnect_cap": 0.5, "health_interval": 1.0}


@pytest.fixture
async def bus(db: Database) -> AsyncIterator[EventBus]:
    """Process A's bus, on the runtime pool the `db` fixture opened."""
    events = EventBus(db, **FAST)
    await events.start()
    yield events
    await events.stop()


@pytest.fixture
async def db_b(database_url: str) -> AsyncIterator[Database]:
    """Process B's own runtime pool on the same database."""
    database = Database(database_url, runtime_database_url(database_url))
    await database.connect(min_size=1, max_size=4)
    yield database
    await database.close()


@pytest.fixture
async def bus_b(db_b: Database) -> AsyncIterator[EventBus]:
    events = EventBus(db_b, **FAST)
    await events.start()
    yield events
    await events.stop()
