"""The product's services, built by the composition root over a real database and the sandbox.

`CountingDatabase` is the real `Database`; it only counts the tenant
transactions it opens, so a test can state how many a unit of work costs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import pytest

from api.config import Settings
from api.db import Database
from api.services import Services
from tests.fixtures.postgres import runtime_database_url
from tests.fixtures.sandbox import SandboxHandle


class CountingDatabase(Database):
    """The runtime pool as the server opens it, counting tenant transactions."""

    tenant_transactions = 0

    @asynccontextmanager
    async def tenant(self, user_id: UUID) -> AsyncIterator[asyncpg.Connection]:
        self.tenant_transactions += 1
        async with super().tenant(user_id) as conn:
            yield conn


@pytest.fixture
async def counting_db(database_url: str) -> AsyncIterator[CountingDatabase]:
    database = CountingDatabase(database_url, runtime_database_url(database_url))
    await database.connect(min_size=1, max_size=4)
    yield database
    await database.close()


@pytest.fixture
async def services(
    settings: Settings, sandbox: SandboxHandle, counting_db: CountingDatabase
) -> AsyncIterator[Services]:
    """Every service as `alpaca-chat serve` builds them, pointed at the sandbox."""
    broker = dataclasses.replace(
        settings,
        paper_url=sandbox.paper_url,
        live_url=sandbox.live_url,
        data_url=sandbox.data_url,
    )
    built = Services.build(broker, counting_db)
    yield built
    built.gateway.close()
