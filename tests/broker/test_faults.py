"""Error mapping under injected faults: what a slow, failing or throttling broker looks like
to the product (docs/architecture.md#decision-2-one-door-to-the-broker; public error codes)."""

from __future__ import annotations

import socket
import time
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from api.broker import AccountRef, BrokerError, BrokerGateway, ErrorCode, OrderRequest
from api.db import Database
from api.trading.placement import Placement
from tests.broker.conftest import READ_TIMEOUT, MakeGateway
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged

Account = tuple[AccountRef, dict[str, Any]]


def rest_calls(sandbox: SandboxHandle, minted: dict[str, Any]) -> int:
    return int(sandbox.stats()[minted["account_number"]]["rest_calls"])


async def test_latency_beyond_the_read_timeout_is_unavailable(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """A broker slower than the read timeout: BROKER_UNAVAILABLE after one wait, not three."""
    ref, minted = paper
    sandbox.set_faults(latency_ms=int(READ_TIMEOUT * 1000) + 500, key_id=minted["api_key_id"])
    started = time.monotonic()
    with pytest.raises(BrokerError) as caught:
        await gateway.snapshot(ref)
    elapsed = time.monotonic() - started
    assert caught.value.code is ErrorCode.BROKER_UNAVAILABLE
    assert "did not answer" in caught.value.message
    assert READ_TIMEOUT <= elapsed < READ_TIMEOUT + 0.5


async def test_persistent_5xx_is_unavailable_after_bounded_retries(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """500 on every call: three attempts in well under two seconds, then BROKER_UNAVAILABLE."""
    ref, minted = paper
    before = rest_calls(sandbox, minted)
    sandbox.set_faults(error_status=500, error_count=100, key_id=minted["api_key_id"])
    started = time.monotonic()
    with pytest.raises(BrokerError) as caught:
        await gateway.positions(ref)
    assert time.monotonic() - started < 2.0
    assert caught.value.code is ErrorCode.BROKER_UNAVAILABLE and caught.value.status == 500
    sandbox.clear_faults()
    assert rest_calls(sandbox, minted) - before == 3


async def test_reads_recover_from_a_transient_5xx(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """Two 503s then a good answer: the caller sees only the good answer."""
    ref, minted = paper
    sandbox.set_faults(error_status=503, error_count=2, key_id=minted["api_key_id"])
    snap = await gateway.snapshot(ref)
    assert snap.account_number == minted["account_number"]
    sandbox.set_faults(error_status=502, error_count=1)
    assert (await gateway.clock(ref)).timestamp is not None


async def test_429_is_rate_limited_with_retry_after(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """429: RATE_LIMITED with the broker's Retry-After, and no retry that would make it worse."""
    ref, minted = paper
    before = rest_calls(sandbox, minted)
    sandbox.set_faults(force_429=1, key_id=minted["api_key_id"])
    with pytest.raises(BrokerError) as caught:
        await gateway.snapshot(ref)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after == 1.0
    assert rest_calls(sandbox, minted) - before == 1


async def test_exhausted_rate_limit_budget(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """The per-key budget (X-RateLimit-*): past it, RATE_LIMITED with a wait in seconds."""
    ref, minted = paper
    sandbox.set_faults(rate_limit_per_minute=2, key_id=minted["api_key_id"])
    await gateway.clock(ref)
    await gateway.clock(ref)
    with pytest.raises(BrokerError) as caught:
        await gateway.clock(ref)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    assert caught.value.retry_after is not None and 0 <= caught.value.retry_after <= 60


async def test_4xx_is_rejected_with_the_brokers_message(
    gateway: BrokerGateway, placement: Placement, sandbox: SandboxHandle, paper: Account
) -> None:
    """A broker 4xx: BROKER_REJECTED carrying the broker's own message, never retried."""
    ref, minted = paper
    before = rest_calls(sandbox, minted)
    sandbox.set_faults(error_status=403, error_count=1, key_id=minted["api_key_id"])
    with pytest.raises(BrokerError) as caught:
        await gateway.positions(ref)
    assert caught.value.code is ErrorCode.BROKER_REJECTED and caught.value.status == 403
    assert caught.value.message == "error"
    assert rest_calls(sandbox, minted) - before == 1
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, OrderRequest("TWTR", "buy", qty=Decimal(1))))
    assert caught.value.code is ErrorCode.BROKER_REJECTED
    assert "not" in caught.value.message  # the sandbox's words about the delisted asset


async def test_unreachable_broker_is_unavailable(
    make_gateway: MakeGateway, db: Database, paper: Account, owner: asyncpg.Connection
) -> None:
    """Nothing listening: BROKER_UNAVAILABLE ('cannot reach'), and an order is NOT_PLACED."""
    ref, _ = paper
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    gateway = make_gateway(paper_url=closed)
    placement = Placement(db, gateway)
    with pytest.raises(BrokerError) as caught:
        await gateway.snapshot(ref)
    assert caught.value.code is ErrorCode.BROKER_UNAVAILABLE
    assert "cannot reach" in caught.value.message
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal(1))))
    assert "not sent" in caught.value.message
    row = await owner.fetchrow("select * from app.order_audit where account_id = $1", ref.id)
    assert row is not None and row["outcome"] == "NOT_PLACED"
