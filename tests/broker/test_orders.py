"""Placing, cancelling and closing through the gateway, each audited (TRADE-02, TRADE-05)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from api.broker import AccountRef, BrokerError, BrokerGateway, BrokerOrder, ErrorCode, OrderRequest
from api.trading.placement import Placement
from tests.broker.conftest import MakeAccount
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged

Account = tuple[AccountRef, dict[str, Any]]


async def audit_rows(owner: asyncpg.Connection, account_id: UUID) -> list[asyncpg.Record]:
    return await owner.fetch(
        "select * from app.order_audit where account_id = $1 order by created_at", account_id
    )


async def test_every_order_type_is_placed_with_a_client_order_id_and_audited(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: market, limit, stop and stop-limit, by qty or notional; each carries a
    client order id (new uuid4 or the caller's) and has an ACCEPTED audit row."""
    ref, _ = paper
    sandbox.set_market_open(False)
    market = await placement.place(
        ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal("1.5")))
    )
    notional = await placement.place(
        ref, *judged(ref, OrderRequest("AAPL", "buy", notional=Decimal("100.25")))
    )
    limit = await placement.place(
        ref,
        *judged(
            ref,
            OrderRequest(
                "MSFT",
                "buy",
                "limit",
                qty=Decimal(2),
                limit_price=Decimal("401.17"),
                time_in_force="gtc",
                client_order_id="proposal-123",
            ),
        ),
    )
    stop = await placement.place(
        ref,
        *judged(ref, OrderRequest("KO", "buy", "stop", qty=Decimal(1), stop_price=Decimal("70"))),
    )
    stop_limit = await placement.place(
        ref,
        *judged(
            ref,
            OrderRequest(
                "KO",
                "buy",
                "stop_limit",
                qty=Decimal(1),
                stop_price=Decimal("70"),
                limit_price=Decimal("70.50"),
                extended_hours=False,
            ),
        ),
    )
    assert UUID(market.client_order_id).version == 4
    assert (market.type, market.qty, market.side) == ("market", Decimal("1.5"), "buy")
    assert (notional.notional, notional.qty) == (Decimal("100.25"), None)
    assert limit.client_order_id == "proposal-123"
    assert (limit.limit_price, limit.time_in_force) == (Decimal("401.17"), "gtc")
    assert (stop.type, stop.stop_price) == ("stop", Decimal(70))
    assert (stop_limit.type, stop_limit.limit_price) == ("stop_limit", Decimal("70.50"))

    rows = await audit_rows(owner, ref.id)
    placed = [market, notional, limit, stop, stop_limit]
    assert [r["client_order_id"] for r in rows] == [o.client_order_id for o in placed]
    assert {r["outcome"] for r in rows} == {"ACCEPTED"}
    assert [r["broker_order_id"] for r in rows] == [o.id for o in placed]
    assert all(r["attempts"] == 1 and r["owner_id"] == ref.owner_id for r in rows)
    limit_row = rows[2]
    assert '"limit_price": "401.17"' in limit_row["request"]
    assert '"client_order_id": "proposal-123"' in limit_row["request"]


async def test_impossible_orders_are_user_input_and_never_sent(
    placement: Placement, sandbox: SandboxHandle, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-02: a request the wire cannot carry is refused before an audit row or a request.

    Which orders make sense (signs, symbols, prices per type) is the order
    vocabulary's, above the broker: tests/trading/test_orders.py (ORD-05).
    """
    ref, minted = paper
    bad = [
        OrderRequest("AAPL", "buy"),
        OrderRequest("AAPL", "buy", qty=Decimal(1), notional=Decimal(5)),
        OrderRequest("AAPL", "buy", "limit", qty=Decimal(1)),
        OrderRequest("AAPL", "buy", "stop", qty=Decimal(1)),
        OrderRequest("AAPL", "buy", qty=Decimal("NaN")),
        OrderRequest("AAPL", "hold", qty=Decimal(1)),
        OrderRequest("AAPL; DROP", "buy", qty=Decimal(1)),
        OrderRequest("AAPL", "buy", qty=Decimal(1), client_order_id="has space"),
    ]
    for request in bad:
        with pytest.raises(BrokerError) as caught:
            await placement.place(ref, *judged(ref, request))
        assert caught.value.code is ErrorCode.BAD_USER_INPUT, request
    assert await audit_rows(owner, ref.id) == []
    assert sandbox.stats()[minted["account_number"]]["orders_received"] == 0


async def test_broker_refusal_is_rejected_with_its_message_and_audited(
    placement: Placement, paper: Account, owner: asyncpg.Connection
) -> None:
    """TRADE-05: a 4xx from the broker is BROKER_REJECTED with the broker's words, outcome
    REJECTED in the audit."""
    ref, _ = paper
    with pytest.raises(BrokerError) as caught:
        await placement.place(ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal(100_000))))
    assert caught.value.code is ErrorCode.BROKER_REJECTED
    assert caught.value.message == "insufficient buying power"
    assert caught.value.status == 403
    (row,) = await audit_rows(owner, ref.id)
    assert row["outcome"] == "REJECTED" and "insufficient buying power" in row["detail"]


async def test_cancel_order(
    gateway: BrokerGateway, placement: Placement, sandbox: SandboxHandle, paper: Account
) -> None:
    """TRADE-04: cancel an open order; cancelling it again is the broker's refusal."""
    ref, _ = paper
    sandbox.set_market_open(False)
    order = await placement.place(ref, *judged(ref, OrderRequest("INTC", "buy", qty=Decimal(3))))
    await gateway.cancel_order(ref, order.id)
    assert (await gateway.order(ref, order.id)).status == "canceled"
    with pytest.raises(BrokerError) as caught:
        await gateway.cancel_order(ref, order.id)
    assert caught.value.code is ErrorCode.BROKER_REJECTED
    assert "not cancelable" in caught.value.message


async def _close(placement: Placement, ref: AccountRef, ticker: str, **amount: Any) -> BrokerOrder:
    request = await placement.closing_request(ref, ticker, **amount)
    return await placement.place(ref, *judged(ref, request))


async def test_close_position_whole_and_in_part(
    gateway: BrokerGateway,
    placement: Placement,
    make_account: MakeAccount,
    owner: asyncpg.Connection,
) -> None:
    """TRADE-05: closing is a market order with a client order id and an audit row."""
    ref, _ = await make_account(
        positions=[{"symbol": "AAPL", "qty": "10"}, {"symbol": "MSFT", "qty": "4"}]
    )
    half = await _close(placement, ref, "aapl", percentage=Decimal(50))
    assert (half.side, half.qty, half.type) == ("sell", Decimal(5), "market")
    some = await _close(placement, ref, "AAPL", qty=Decimal(2))
    assert some.qty == Decimal(2)
    remaining = {p.symbol: p.qty for p in await gateway.positions(ref)}
    assert remaining == {"AAPL": Decimal(3), "MSFT": Decimal(4)}
    whole = await _close(placement, ref, "MSFT", client_order_id="close-msft-1")
    assert (whole.qty, whole.client_order_id) == (Decimal(4), "close-msft-1")
    # The same close asked again is answered with the same order, not a second sell.
    again = await _close(placement, ref, "MSFT", client_order_id="close-msft-1")
    assert again.id == whole.id
    assert {p.symbol for p in await gateway.positions(ref)} == {"AAPL"}
    rows = await audit_rows(owner, ref.id)
    assert len(rows) == 3 and rows[-1]["attempts"] == 2
    with pytest.raises(BrokerError) as caught:
        await _close(placement, ref, "MSFT")
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    with pytest.raises(BrokerError) as caught:
        await _close(placement, ref, "AAPL", qty=Decimal(4))
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
