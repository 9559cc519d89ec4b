"""The embedded PostgreSQL dies under a running server (OPS-01, RT-01, RT-03).

`alpaca-chat serve` on its own embedded PostgreSQL, trading on the sandbox; the
postmaster is killed with SIGKILL. While it is down, requests are answered
SERVICE_UNAVAILABLE (HTTP 200, a coded GraphQL error; /healthz 503), never a
bare 500 or an "Internal error", and the log gets a line per change of state,
not a traceback per request; subscribers of accountUpdates are told at once
that nothing is live (a ResyncEvent "unavailable"), and told to resync when it
is back. The server starts PostgreSQL again by itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import (
    TLS,
    GraphQLWebSocket,
    RunningServer,
    launch_server,
    signed_up_user,
)
from tests.fixtures.trading import Trader, broker_env
from tests.live.conftest import ACCOUNT_UPDATES, next_update

ACCOUNTS = "query { accounts { id nickname } }"


def _postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def _answers(trader: Trader) -> tuple[int, dict[str, Any]]:
    response = httpx.post(
        trader.server.graphql_url,
        json={"query": ACCOUNTS},
        headers={"authorization": f"Bearer {trader.token}"},
        timeout=10,
        verify=TLS,
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json()


def _health(server: RunningServer) -> int:
    return httpx.get(server.url + "/healthz", timeout=5, verify=TLS).status_code


@pytest.fixture
def home(embedded_home: Path) -> Path:
    return embedded_home


async def test_ops01_killed_embedded_postgres_is_restarted_and_clients_are_told(
    home: Path, sandbox: SandboxHandle, known_secrets: set[str]
) -> None:
    """OPS-01, RT-01, RT-03: kill -9 the embedded PostgreSQL under a serving process."""
    server = launch_server("", home, {**broker_env(sandbox), "DATABASE_URL": ""})
    try:
        trader = Trader(
            server, sandbox, signed_up_user(server, "outage@example.com"), known_secrets
        )
        account = trader.add_account("Main")
        async with GraphQLWebSocket.connect(server, token=trader.token) as ws:
            await ws.subscribe(ACCOUNT_UPDATES, {"accountId": account["id"]})
            assert (await next_update(ws))["__typename"] == "SnapshotEvent"
            log_before = len(server.log_text())

            killed_at = time.monotonic()
            os.kill(_postmaster_pid(home), signal.SIGKILL)
            told: dict[str, Any] = {}
            while told.get("reason") != "unavailable":
                told = await next_update(ws, seconds=10)
            told_after = time.monotonic() - killed_at

            statuses, codes_seen = set(), set()
            health = set()
            back_after = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status, answer = await asyncio.to_thread(_answers, trader)
                statuses.add(status)
                errors = answer.get("errors") or []
                codes_seen.update(e.get("extensions", {}).get("code") for e in errors)
                health.add(await asyncio.to_thread(_health, server))
                if not errors:
                    back_after = time.monotonic() - killed_at
                    break
                await asyncio.sleep(0.05)
            assert back_after is not None, "the embedded PostgreSQL was not started again"
            assert statuses == {200}
            assert codes_seen <= {"SERVICE_UNAVAILABLE"}, codes_seen
            assert "SERVICE_UNAVAILABLE" in codes_seen
            assert 503 in health

            resynced: dict[str, Any] = {}
            while resynced.get("reason") != "reconnected":
                resynced = await next_update(ws, seconds=30)

        log = server.log_text()[log_before:]
        assert "Traceback" not in log
        assert log.count("database unavailable") == 1
        assert len(log) < 20_000, f"{len(log)} bytes of log for one outage"
        print(
            f"subscribers told after {told_after:.2f} s; answering again after {back_after:.1f} s"
        )
    finally:
        server.stop()
    assert "the embedded PostgreSQL is running again" in server.log_text()
