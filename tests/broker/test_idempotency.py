"""TRADE-05: an order is placed at most once, and the audit tells what happened."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from api.broker import (
    AccountRef,
    BrokerError,
    ErrorCode,
    OrderRequest,
    RetryPolicy,
)
from api.db import Database
from api.trading.placement import Placement
from tests.broker.conftest import READ_TIMEOUT, MakeAccount, MakeGateway
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged

Account = tuple[AccountRef, dict[str, Any]]


def stats(sandbox: SandboxHandle, minted: dict[str, Any]) -> dict[str, Any]:
    return sandbox.stats()[minted["account_number"]]


async def audit_row(owner: asyncpg.Connection, coid: str) -> asyncpg.Record:
    row = await owner.fetchrow("select * from app.order_audit where client_order_id = $1", coid)
    assert row is not None
    return row


async def test_accept_then_timeout_twice_places_one_order(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: the broker takes the order but its answer times out; the gateway asks for the
    client order id and returns the order (RECOVERED). The same logical order sent again gets
    the same order back: one order at the broker, one audit row with two attempts."""
    ref, minted = paper
    request = OrderRequest("AAPL", "buy", qty=Decimal(2), client_order_id="proposal-42")
    sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 1.5)
    first = await placement.place(ref, *judged(ref, request))
    assert first.client_order_id == "proposal-42"
    row = await audit_row(owner, "proposal-42")
    assert (row["outcome"], row["attempts"], row["broker_order_id"]) == ("RECOVERED", 1, first.id)
    assert "timed out" in row["detail"]

    sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 1.5)
    second = await placement.place(ref, *judged(ref, request))
    assert second.id == first.id
    assert stats(sandbox, minted)["orders_received"] == 1
    assert stats(sandbox, minted)["orders"] == 1
    rows = await owner.fetch("select * from app.order_audit where account_id = $1", ref.id)
    assert len(rows) == 1
    (row,) = rows
    assert (row["outcome"], row["attempts"], row["broker_order_id"]) == ("RECOVERED", 2, first.id)
    assert json.loads(row["request"])["qty"] == "2"


async def test_failed_attempt_then_timeout_still_one_order(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: a 500 on the POST is resolved by asking (not placed: NOT_PLACED); the retry
    times out after the broker took it and is RECOVERED. One order, two attempts."""
    ref, minted = paper
    request = OrderRequest("KO", "buy", qty=Decimal(1), client_order_id="retry-me")
    sandbox.set_faults(error_status=500, error_count=1, key_id=minted["api_key_id"])
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, request))
    assert caught.value.code is ErrorCode.BROKER_UNAVAILABLE
    assert "not placed" in caught.value.message
    row = await audit_row(owner, "retry-me")
    assert (row["outcome"], row["attempts"]) == ("NOT_PLACED", 1)
    assert stats(sandbox, minted)["orders_received"] == 0

    sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 1.5)
    order = await placement.place(ref, *judged(ref, request))
    assert order.client_order_id == "retry-me"
    row = await audit_row(owner, "retry-me")
    assert (row["outcome"], row["attempts"], row["broker_order_id"]) == ("RECOVERED", 2, order.id)
    assert stats(sandbox, minted)["orders_received"] == 1


async def test_broker_duplicate_refusal_returns_the_existing_order(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: when the broker says 'client_order_id must be unique', the gateway returns the
    order that id already names instead of an error (audit: RECOVERED)."""
    ref, minted = paper
    request = OrderRequest("PEP", "buy", qty=Decimal(1), client_order_id="dup-1")
    first = await placement.place(ref, *judged(ref, request))
    # Forget the audit row (as the owner can), so the next attempt goes straight to the broker.
    await owner.execute("delete from app.order_audit where client_order_id = 'dup-1'")
    again = await placement.place(ref, *judged(ref, request))
    assert again.id == first.id
    row = await audit_row(owner, "dup-1")
    assert row["outcome"] == "RECOVERED" and "already had" in row["detail"]
    assert stats(sandbox, minted)["orders"] == 1


async def test_ambiguous_failure_with_the_broker_unreachable_is_unknown(
    make_gateway: MakeGateway,
    db: Database,
    sandbox: SandboxHandle,
    paper: Account,
    owner: asyncpg.Connection,
) -> None:
    """TRADE-05: answer timed out and the lookup fails too: UNKNOWN, never a guess; the retry
    with the same id finds the order and places nothing new."""
    ref, minted = paper
    request = OrderRequest("WMT", "buy", qty=Decimal(1), client_order_id="unknown-1")
    # The POST is taken then held; the lookup meets 503s on every attempt.
    sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 1.5)
    gateway = make_gateway(retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    placement = Placement(db, gateway)
    place = placement.place(ref, *judged(ref, request))
    # The 503s must start after the POST has passed the fault gate and while the broker
    # holds its answer: set them half-way through the read timeout.

    async def break_lookups() -> None:
        await asyncio.sleep(READ_TIMEOUT / 2)
        await asyncio.to_thread(sandbox.set_faults, error_status=503, error_count=10)

    results = await asyncio.gather(place, break_lookups(), return_exceptions=True)
    error = results[0]
    assert isinstance(error, BrokerError) and error.code is ErrorCode.BROKER_UNAVAILABLE
    assert "could not be asked" in error.message
    row = await audit_row(owner, "unknown-1")
    assert (row["outcome"], row["attempts"]) == ("UNKNOWN", 1)

    sandbox.clear_faults()
    order = await placement.place(ref, *judged(ref, request))
    row = await audit_row(owner, "unknown-1")
    assert (row["outcome"], row["attempts"], row["broker_order_id"]) == ("RECOVERED", 2, order.id)
    assert stats(sandbox, minted)["orders_received"] == 1


async def test_rate_limited_order_is_not_placed(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: a 429 on the POST is RATE_LIMITED, audited NOT_PLACED, never retried."""
    ref, minted = paper
    sandbox.set_faults(force_429=1, key_id=minted["api_key_id"])
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, OrderRequest("BAC", "buy", qty=Decimal(1))))
    assert caught.value.code is ErrorCode.RATE_LIMITED and caught.value.retry_after == 1.0
    row = await owner.fetchrow("select * from app.order_audit where account_id = $1", ref.id)
    assert row is not None and row["outcome"] == "NOT_PLACED"
    assert stats(sandbox, minted)["orders_received"] == 0


async def test_a_client_order_id_means_one_order_only(
    placement: Placement, make_account: MakeAccount, owner: asyncpg.Connection
) -> None:
    """TRADE-05, ISO-01: reusing an id for a different order, another account or another
    tenant is refused (the audit's unique id, RLS on the existing row)."""
    ref, _ = await make_account()
    await placement.place(
        ref, *judged(ref, OrderRequest("V", "buy", qty=Decimal(1), client_order_id="mine-1"))
    )
    different = OrderRequest("V", "buy", qty=Decimal(2), client_order_id="mine-1")
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, different))
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    sibling, _ = await make_account(owner_id=ref.owner_id)
    same = OrderRequest("V", "buy", qty=Decimal(1), client_order_id="mine-1")
    with pytest.raises(BrokerError) as caught:
        await placement.place(sibling, *judged(sibling, same))
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    stranger, _ = await make_account()
    with pytest.raises(BrokerError) as caught:
        await placement.place(stranger, *judged(stranger, same))
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    row = await owner.fetchrow("select * from app.order_audit where client_order_id = 'mine-1'")
    assert row is not None and row["attempts"] == 1 and row["account_id"] == ref.id
