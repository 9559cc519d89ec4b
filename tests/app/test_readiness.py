"""OPS-01, OPS-02: `/readyz` says ready only when the database answers, the event bus
listens and every migration has run; otherwise 503 names what is not ready.
`/healthz` stays the cheap liveness check."""

from __future__ import annotations

import asyncpg

from api.db.ledger import LEDGER
from tests.fixtures.inprocess import InProcessApp


async def test_ready_when_database_bus_and_migrations_are(app: InProcessApp) -> None:
    """OPS-01: a started app is ready, and healthy."""
    ready = await app.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    health = await app.client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})


async def test_not_ready_while_a_migration_is_pending(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """OPS-02: a database that has not run the newest migration is not ready (503
    naming the migrations) though healthy; once it has, the app is ready."""
    newest = await owner.fetchrow(f"select * from {LEDGER} order by name desc limit 1")
    await owner.execute(f"delete from {LEDGER} where id = $1", newest["id"])

    pending = await app.client.get("/readyz")
    assert pending.status_code == 503
    assert pending.json() == {"status": "unavailable", "notReady": ["migrations"]}
    assert (await app.client.get("/healthz")).status_code == 200

    await owner.execute(
        f"insert into {LEDGER} (name, app_name, ran_on) values ($1, $2, $3)",
        newest["name"],
        newest["app_name"],
        newest["ran_on"],
    )
    assert (await app.client.get("/readyz")).status_code == 200


async def test_not_ready_without_the_event_bus(app: InProcessApp) -> None:
    """OPS-01: with the event bus stopped no live update reaches anyone: not ready."""
    assert (await app.client.get("/readyz")).status_code == 200
    await app.services.bus.stop()

    stopped = await app.client.get("/readyz")
    assert stopped.status_code == 503
    assert stopped.json() == {"status": "unavailable", "notReady": ["eventBus"]}
