"""Gateway reads against the sandbox broker over real HTTP.

ACCT-01, DISP-01..03, TRADE-02..04.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from api.accounts import AccountService
from api.broker import AccountRef, BrokerError, BrokerGateway, ErrorCode, OrderRequest
from api.broker.errors import KEYS_REFUSED
from api.db import Database
from api.trading.placement import Placement
from api.vault import VaultError
from tests.broker.conftest import MakeAccount
from tests.broker.helpers import sign_up
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged

Account = tuple[AccountRef, dict[str, Any]]


async def test_verify_accepts_good_keys_and_names_the_account(
    gateway: BrokerGateway, sandbox: SandboxHandle
) -> None:
    """ACCT-01: keys are checked with the broker before anything is stored."""
    minted = sandbox.mint_account("paper")
    verified = await gateway.verify("PAPER", minted["api_key_id"], minted["secret_key"])
    assert verified.account_number == minted["account_number"]
    assert verified.environment == "PAPER"
    assert verified.status == "ACTIVE"
    assert verified.trading_blocked is False


async def test_verify_rejects_bad_keys_as_user_input(
    gateway: BrokerGateway, sandbox: SandboxHandle
) -> None:
    """ACCT-01: a bad key gets a clear error, BAD_USER_INPUT, without echoing the key."""
    minted = sandbox.mint_account("paper")
    with pytest.raises(BrokerError) as caught:
        await gateway.verify("PAPER", minted["api_key_id"], minted["secret_key"][::-1])
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    assert "keys rejected by Alpaca" in caught.value.message
    assert minted["api_key_id"] not in caught.value.message


async def test_verify_says_when_keys_belong_to_the_other_environment(
    gateway: BrokerGateway, sandbox: SandboxHandle
) -> None:
    """ACCT-01, DISP-01: paper keys offered as LIVE are refused and the message says paper."""
    minted = sandbox.mint_account("paper")
    with pytest.raises(BrokerError) as caught:
        await gateway.verify("LIVE", minted["api_key_id"], minted["secret_key"])
    assert caught.value.code is ErrorCode.BAD_USER_INPUT
    assert "paper keys" in caught.value.message and "PAPER" in caught.value.message
    live = sandbox.mint_account("live")
    verified = await gateway.verify("live", live["api_key_id"], live["secret_key"])
    assert verified.environment == "LIVE"
    with pytest.raises(BrokerError) as caught:
        await gateway.verify("PAPER", live["api_key_id"], live["secret_key"])
    assert "live keys" in caught.value.message


async def test_verify_refuses_malformed_input_without_calling_the_broker(
    gateway: BrokerGateway,
) -> None:
    """ACCT-01: nonsense never reaches the broker (and is never echoed back)."""
    cases = [("DEMO", "PKX", "s"), ("PAPER", "", "s"), ("PAPER", "PK X", "s")]
    for environment, key, secret in cases:
        with pytest.raises(BrokerError) as caught:
            await gateway.verify(environment, key, secret)
        assert caught.value.code is ErrorCode.BAD_USER_INPUT


async def test_snapshot_matches_the_broker(
    gateway: BrokerGateway, sandbox: SandboxHandle, make_account: MakeAccount
) -> None:
    """DISP-01..03: cash, equity, buying power etc. as Decimals equal to the broker's figures."""
    ref, minted = await make_account(cash="25000.50", positions=[{"symbol": "AAPL", "qty": "3"}])
    before = datetime.now(UTC)
    snap = await gateway.snapshot(ref)
    broker = sandbox.account(minted["account_number"])
    assert snap.account_number == minted["account_number"]
    assert snap.environment == "PAPER"
    assert snap.cash == Decimal(broker["cash"]) == Decimal("25000.50")
    assert snap.equity == Decimal(broker["equity"])
    assert snap.buying_power == Decimal(broker["buying_power"])
    assert snap.portfolio_value == Decimal(broker["portfolio_value"])
    assert snap.last_equity == Decimal(broker["last_equity"])
    assert snap.currency == "USD" and snap.status == "ACTIVE"
    assert snap.trading_blocked is False and snap.pattern_day_trader is False
    assert isinstance(snap.cash, Decimal)
    assert before <= snap.as_of <= datetime.now(UTC) + timedelta(seconds=1)


async def test_keys_revoked_at_the_broker_are_said_in_words_and_marked(
    gateway: BrokerGateway, sandbox: SandboxHandle, make_account: MakeAccount
) -> None:
    """ACCT-06, DISP-04: when the broker stops accepting stored keys (401), every read says so
    in words with what to do and marks the reason KEYS_REFUSED, so the app can show the
    account unhealthy; the broker's raw text and the key never reach the message."""
    ref, minted = await make_account()
    sandbox.revoke(minted["account_number"])
    for read in (gateway.snapshot, gateway.positions):
        with pytest.raises(BrokerError) as caught:
            await read(ref)
        error = caught.value
        assert error.code is ErrorCode.BROKER_REJECTED
        assert error.status == 401
        assert error.extensions["reason"] == KEYS_REFUSED
        assert "Replace them on the Accounts page" in error.message
        assert "not authorized" not in error.message
        assert minted["api_key_id"] not in error.message


async def test_positions_are_this_accounts_only(
    gateway: BrokerGateway, make_account: MakeAccount
) -> None:
    """TRADE-03: each account sees its own positions."""
    ref, _ = await make_account(
        positions=[
            {"symbol": "MSFT", "qty": "2", "avg_entry_price": "400"},
            {"symbol": "AAPL", "qty": "1.5"},
        ]
    )
    other, _ = await make_account(positions=[{"symbol": "TSLA", "qty": "7"}])
    mine = await gateway.positions(ref)
    assert [(p.symbol, p.qty, p.side) for p in mine] == [
        ("AAPL", Decimal("1.5"), "long"),
        ("MSFT", Decimal("2"), "long"),
    ]
    msft = mine[1]
    assert msft.avg_entry_price == Decimal("400")
    assert msft.cost_basis == Decimal("800.00")
    assert msft.market_value == msft.qty * msft.current_price  # type: ignore[operator]
    assert [p.symbol for p in await gateway.positions(other)] == ["TSLA"]


async def test_orders_newest_first_with_status_and_limit(
    gateway: BrokerGateway, placement: Placement, sandbox: SandboxHandle, paper: Account
) -> None:
    """TRADE-04: order history of this account, newest first, filtered and limited."""
    ref, _ = paper
    sandbox.set_market_open(False)  # market orders rest, so the three stay open
    placed = [
        await placement.place(ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal(n))))
        for n in (1, 2, 3)
    ]
    newest_first = [o.id for o in reversed(placed)]
    assert [o.id for o in await gateway.orders(ref, "open")] == newest_first
    assert [o.id for o in await gateway.orders(ref, "all", limit=2)] == newest_first[:2]
    assert await gateway.orders(ref, "closed") == []
    one = await gateway.order(ref, placed[0].id)
    assert one.client_order_id == placed[0].client_order_id and one.qty == Decimal(1)
    for status, limit in [("pending", 5), ("open", 0), ("open", 501)]:
        with pytest.raises(BrokerError) as caught:
            await gateway.orders(ref, status, limit)  # type: ignore[arg-type]
        assert caught.value.code is ErrorCode.BAD_USER_INPUT


async def test_another_accounts_order_is_not_found(
    gateway: BrokerGateway,
    placement: Placement,
    sandbox: SandboxHandle,
    make_account: MakeAccount,
) -> None:
    """TRADE-04: an order id of another account is refused by the broker with its message."""
    mine, _ = await make_account()
    theirs, _ = await make_account()
    sandbox.set_market_open(False)
    order = await placement.place(
        theirs, *judged(theirs, OrderRequest("KO", "buy", qty=Decimal(1)))
    )
    with pytest.raises(BrokerError) as caught:
        await gateway.order(mine, order.id)
    assert caught.value.code is ErrorCode.BROKER_REJECTED and caught.value.status == 404
    assert "not found" in caught.value.message
    with pytest.raises(BrokerError) as caught:
        await gateway.order(mine, "../account")
    assert caught.value.code is ErrorCode.BAD_USER_INPUT


async def test_latest_quote_asset_and_clock(
    gateway: BrokerGateway, sandbox: SandboxHandle, paper: Account
) -> None:
    """TRADE-02: quote, asset flags and the market clock, for validating an order."""
    ref, _ = paper
    sandbox.set_price("NVDA", "123.45")
    quote = await gateway.latest_quote(ref, "nvda")
    assert quote.symbol == "NVDA"
    assert isinstance(quote.ask_price, Decimal) and quote.bid_price <= quote.ask_price
    assert abs((quote.bid_price + quote.ask_price) / 2 - Decimal("123.45")) < Decimal("0.10")
    with pytest.raises(BrokerError) as caught:
        await gateway.latest_quote(ref, "NOPE")
    assert caught.value.code is ErrorCode.BAD_USER_INPUT

    gme = await gateway.asset(ref, "GME")
    assert gme is not None
    assert (gme.tradable, gme.fractionable, gme.shortable) == (True, False, False)
    aapl = await gateway.asset(ref, "AAPL")
    assert aapl is not None and aapl.fractionable and aapl.exchange == "NASDAQ"
    assert await gateway.asset(ref, "ZZZZ") is None

    sandbox.set_market_open(False)
    clock = await gateway.clock(ref)
    assert clock.is_open is False and clock.next_open > clock.timestamp
    sandbox.set_market_open(True)
    assert (await gateway.clock(ref)).is_open is True


async def test_account_is_only_loaded_by_its_owner(
    accounts: AccountService, db: Database, paper: Account
) -> None:
    """CRED-04, ISO-01: another user's account id reads as absent (RLS), never as theirs;
    the one read carries the broker's view, its keys still encrypted and kept out of repr."""
    ref, _ = paper
    loaded = await accounts.find(ref.owner_id, ref.id)
    assert loaded is not None and loaded.broker == ref
    stranger = await sign_up(db)
    assert await accounts.find(stranger, ref.id) is None
    assert await accounts.find(ref.owner_id, uuid4()) is None
    assert "secret" not in repr(loaded) and "encrypted" not in repr(loaded)


async def test_credentials_of_another_row_do_not_decrypt(
    gateway: BrokerGateway, make_account: MakeAccount
) -> None:
    """CRED-01: ciphertexts are bound to their row; copied onto another account they fail
    (VaultError, masked by the API) and nothing is sent."""
    ref, _ = await make_account()
    other, _ = await make_account()
    forged = AccountRef(
        other.id, other.owner_id, "PAPER", ref.key_id_encrypted, ref.secret_encrypted
    )
    with pytest.raises(VaultError):
        await gateway.snapshot(forged)
