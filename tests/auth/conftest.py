"""One server per test module for the auth tests; a fresh one only where a test needs it.

Starting a server costs seconds, and most auth tests need users, not an empty
install: `server` here is the module's `shared_server` (its inviter already
signed up), every test signs up its own `unique_email(...)` users, and `owner`
looks at that server's database, where a test reads only its own users' rows.

`fresh_server` is a server on this test's own empty database: for the first
user's sign-up and for rate limits, which need an untouched limit state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.fixtures.server import RunningServer, StartServer


@pytest.fixture(scope="module")
def server(shared_server: RunningServer) -> RunningServer:
    """The module's shared server (not an empty install: its first user exists)."""
    return shared_server


@pytest.fixture
async def owner(server: RunningServer) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the database owner to the shared server's database."""
    conn = await asyncpg.connect(server.database_url)
    yield conn
    await conn.close()


@pytest.fixture
def fresh_server(start_server: StartServer) -> RunningServer:
    """A server on this test's fresh, empty database, for this test alone."""
    return start_server()
