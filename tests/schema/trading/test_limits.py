"""Limits and the halt through GraphQL, against the sandbox and PostgreSQL (RISK-01..05).

Every mutation that can place, replace or cancel an order and every chat tool
is listed here, from the schema and the tool registry, and each order path is
shown to go through the one check: a new path that is in neither table fails
`test_risk01_every_order_path_is_known_and_goes_through_the_check`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from graphql import build_schema as schema_from_sdl

from api.chat.contract import AccountActions
from api.chat.tools import build_tools
from api.errors import LimitExceeded
from api.services import Services
from api.trading.orders import validate_intent
from schema import build_schema
from tests.fixtures.inprocess import AddedAccount, InProcessApp, SignedInUser, codes

SET_LIMITS = """mutation($a: UUID!, $input: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $input) { id halted limits {
    maxOrderNotional maxDailyLoss maxOrdersPerDay allowedSymbols deniedSymbols allowShort } } }"""
ACCOUNT = """query($a: UUID!) { account(id: $a) { id halted
  limits { maxOrderNotional maxDailyLoss maxOrdersPerDay allowedSymbols deniedSymbols allowShort }
  brokerConfiguration { suspendTrade noShorting maxMarginMultiplier } } }"""
HALT = "mutation($a: UUID!) { haltAccount(accountId: $a) { id halted } }"
RESUME = "mutation($a: UUID!) { resumeAccount(accountId: $a) { id halted } }"
SET_CONFIGURATION = """mutation($a: UUID!, $input: BrokerConfigurationInput!) {
  setBrokerConfiguration(accountId: $a, input: $input) { noShorting suspendTrade } }"""
PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id clientOrderId symbol side status } }"""
CLOSE = """mutation($a: UUID, $s: String!, $qty: Decimal) {
  closePosition(accountId: $a, symbol: $s, qty: $qty) { id symbol side qty status } }"""
CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id status } }"
REPLACE = """mutation($a: UUID, $o: String!, $input: ReplaceOrderInput!) {
  replaceOrder(accountId: $a, orderId: $o, input: $input) { id replaces limitPrice status } }"""
CANCEL = "mutation($a: UUID, $o: String!) { cancelOrder(accountId: $a, orderId: $o) }"
ORDERS = """query($a: UUID) { orders(accountId: $a, status: OPEN, limit: 50) { id status } }"""
CHAT = """mutation($text: String!, $a: UUID) {
  sendChatMessage(text: $text, accountId: $a) {
    reply { text proposals { id status } toolCalls { name result } } } }"""


def _buy(account: AddedAccount, qty: str = "1", symbol: str = "AAPL", **extra: Any) -> dict:
    return {
        "input": {"accountId": account.id, "symbol": symbol, "side": "BUY", "qty": qty, **extra}
    }


def _received(app: InProcessApp, account: AddedAccount) -> int:
    received: int = app.sandbox.stats()[account.keys["account_number"]]["orders_received"]
    return received


def _error(answer: dict[str, Any]) -> dict[str, Any]:
    (error,) = answer["errors"]
    extensions: dict[str, Any] = error["extensions"]
    return {"message": error["message"], **extensions}


async def _trader(
    app: InProcessApp, environment: str = "PAPER", **mint: Any
) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token, environment=environment, **mint)


async def _set(app: InProcessApp, user: SignedInUser, account: AddedAccount, **limits: Any) -> dict:
    return await app.gql(SET_LIMITS, {"a": account.id, "input": limits}, token=user.token)


async def _sandbox_configuration(app: InProcessApp, account: AddedAccount) -> dict[str, Any]:
    """GET /v2/account/configurations at the sandbox itself, with the account's keys."""
    headers = {
        "APCA-API-KEY-ID": account.keys["api_key_id"],
        "APCA-API-SECRET-KEY": account.keys["secret_key"],
    }
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{app.sandbox.paper_url}/v2/account/configurations", headers=headers
        )
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def _age_sessions(owner: asyncpg.Connection, user: SignedInUser) -> None:
    await owner.execute(
        "update app.sessions set created_at = now() - interval '10 minutes' where user_id = $1",
        user.id,
    )


async def test_risk01_limits_are_set_normalised_validated_and_private(app: InProcessApp) -> None:
    """RISK-01, ISO-01: stored and read back in the vocabulary's spelling; bad input names
    its field; another user's account is NOT_FOUND and keeps its limits."""
    alice, account = await _trader(app)
    set_ = await _set(
        app,
        alice,
        account,
        maxOrderNotional="5000",
        maxDailyLoss="250.50",
        maxOrdersPerDay=10,
        allowedSymbols=["aapl", "$msft", "AAPL", "btc/usd"],
        deniedSymbols=["tsla"],
        allowShort=False,
    )
    assert set_["data"]["setAccountLimits"]["limits"] == {
        "maxOrderNotional": "5000",
        "maxDailyLoss": "250.5",
        "maxOrdersPerDay": 10,
        "allowedSymbols": ["AAPL", "MSFT", "BTC/USD"],
        "deniedSymbols": ["TSLA"],
        "allowShort": False,
    }
    for bad, field in (
        ({"maxOrderNotional": "-1"}, "maxOrderNotional"),
        ({"maxDailyLoss": "-0.01"}, "maxDailyLoss"),
        ({"maxOrdersPerDay": -1}, "maxOrdersPerDay"),
        ({"maxOrdersPerDay": 10**6}, "maxOrdersPerDay"),
        ({"deniedSymbols": ["NOT A SYMBOL"]}, "deniedSymbols"),
        ({"allowedSymbols": [f"S{n}" for n in range(201)]}, "allowedSymbols"),
    ):
        refused = await _set(app, alice, account, **bad)
        assert _error(refused)["code"] == "BAD_USER_INPUT", bad
        assert _error(refused)["field"] == field, bad
    bob = await app.sign_up()
    assert codes(await _set(app, bob, account, maxOrdersPerDay=99)) == ["NOT_FOUND"]
    assert codes(await app.gql(HALT, {"a": account.id}, token=bob.token)) == ["NOT_FOUND"]
    limits = (await app.data(ACCOUNT, {"a": account.id}, token=alice.token))["account"]
    assert limits["limits"]["maxOrdersPerDay"] == 10 and limits["halted"] is False
    cleared = await _set(app, alice, account)
    assert cleared["data"]["setAccountLimits"]["limits"]["deniedSymbols"] == []


async def test_risk01_risk02_the_ticket_is_refused_with_guard_limit_and_value(
    app: InProcessApp,
) -> None:
    """RISK-01, RISK-02: a limit buy is valued at its limit price, not the quote, so a
    buy with a far limit cannot slip under the cap; a denied symbol is refused; nothing
    reaches the broker; a refusal names guard, limit and value."""
    alice, account = await _trader(app)
    app.sandbox.set_market_open(False)
    await app.data(
        SET_LIMITS,
        {"a": account.id, "input": {"maxOrderNotional": "1000", "deniedSymbols": ["TSLA"]}},
        token=alice.token,
    )
    # AAPL is about 190: 5 at market is about 950, under the cap
    await app.data(PLACE, _buy(account, "5"), token=alice.token)
    far = _buy(account, "5", type="LIMIT", limitPrice="380")
    refused = _error(await app.gql(PLACE, far, token=alice.token))
    assert (refused["code"], refused["guard"], refused["limit"], refused["value"]) == (
        "LIMIT_EXCEEDED",
        "max_order_notional",
        "1000",
        "1900",
    )
    assert "$1,900.00" in refused["message"] and "$1,000.00" in refused["message"]
    denied = _error(await app.gql(PLACE, _buy(account, symbol="TSLA"), token=alice.token))
    assert (denied["code"], denied["guard"], denied["value"]) == (
        "LIMIT_EXCEEDED",
        "symbol_denied",
        "TSLA",
    )
    assert _received(app, account) == 1


async def test_risk02_orders_per_day_and_daily_loss_come_from_the_database_and_broker(
    app: InProcessApp,
) -> None:
    """RISK-02: the day's count is the order audit's, so a second, fresh set of services on
    the same database (what a restarted or a second server process has) refuses the order
    the first one counted; the day's loss is the broker's equity against last equity, and
    a close still goes."""
    alice, account = await _trader(
        app, positions=[{"symbol": "UBER", "qty": "100", "avg_entry_price": "72"}]
    )
    app.sandbox.set_market_open(False)
    await app.data(
        SET_LIMITS, {"a": account.id, "input": {"maxOrdersPerDay": 2}}, token=alice.token
    )
    for _ in range(2):
        await app.data(PLACE, _buy(account), token=alice.token)
    refused = _error(await app.gql(PLACE, _buy(account), token=alice.token))
    assert (refused["guard"], refused["limit"], refused["value"]) == (
        "max_orders_per_day",
        "2",
        "3",
    )

    second = Services.build(app.services.settings, app.services.database)
    try:
        stored = await second.accounts.get(UUID(alice.id), UUID(account.id))
        with pytest.raises(LimitExceeded) as again:
            await second.trading.place_order(
                stored, validate_intent(symbol="AAPL", side="buy", qty="1")
            )
        assert again.value.extensions["guard"] == "max_orders_per_day"
    finally:
        second.gateway.close()
    assert _received(app, account) == 2

    await app.data(
        SET_LIMITS, {"a": account.id, "input": {"maxDailyLoss": "1000"}}, token=alice.token
    )
    app.sandbox.set_price("UBER", "60")  # 100 shares down 12: a loss of about 1,200
    try:
        lost = _error(await app.gql(PLACE, _buy(account), token=alice.token))
        assert (lost["code"], lost["guard"], lost["limit"]) == (
            "LIMIT_EXCEEDED",
            "max_daily_loss",
            "1000",
        )
        closing = {"a": account.id, "s": "UBER", "qty": "10"}
        closed = await app.data(CLOSE, closing, token=alice.token)
        assert closed["closePosition"]["side"] == "SELL"
    finally:
        app.sandbox.set_price("UBER", "72")
    assert _received(app, account) == 3


async def test_risk04_halt_cancels_suspends_and_refuses_every_path_but_closing(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """RISK-04, RISK-05: haltAccount cancels the open orders at the broker, sets its
    suspend_trade, and from then the ticket, a confirmation and the chat are refused with
    ACCOUNT_HALTED and the broker receives nothing; a position can still be closed; the chat
    cannot resume; resumeAccount lifts both; every step is in the guard audit."""
    alice, account = await _trader(
        app, positions=[{"symbol": "KO", "qty": "20", "avg_entry_price": "62"}]
    )
    app.sandbox.set_market_open(False)
    await app.data(PLACE, _buy(account, "2"), token=alice.token)
    await app.data(PLACE, _buy(account, "3", symbol="MSFT"), token=alice.token)
    pending = await app.data(CHAT, {"text": "buy 1 AAPL", "a": account.id}, token=alice.token)
    (proposal,) = pending["sendChatMessage"]["reply"]["proposals"]
    assert len((await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"]) == 2

    halted = await app.data(HALT, {"a": account.id}, token=alice.token)
    assert halted["haltAccount"] == {"id": account.id, "halted": True}
    assert (await app.data(ORDERS, {"a": account.id}, token=alice.token))["orders"] == []
    assert (await _sandbox_configuration(app, account))["suspend_trade"] is True
    received = _received(app, account)

    ticket = _error(await app.gql(PLACE, _buy(account), token=alice.token))
    assert ticket["code"] == "ACCOUNT_HALTED"
    confirm = _error(await app.gql(CONFIRM, {"p": proposal["id"]}, token=alice.token))
    assert confirm["code"] == "ACCOUNT_HALTED"
    chat = await app.data(CHAT, {"text": "buy 1 AAPL", "a": account.id}, token=alice.token)
    (call,) = chat["sendChatMessage"]["reply"]["toolCalls"]
    assert call["result"]["error"]["code"] == "ACCOUNT_HALTED"
    assert _received(app, account) == received

    for text in ("resume trading", "raise my daily loss limit to 1000000", "unhalt"):
        answer = await app.data(CHAT, {"text": text, "a": account.id}, token=alice.token)
        assert answer["sendChatMessage"]["reply"]["toolCalls"] == []
    still = (await app.data(ACCOUNT, {"a": account.id}, token=alice.token))["account"]
    assert still["halted"] is True and still["brokerConfiguration"]["suspendTrade"] is True

    closed = await app.data(CLOSE, {"a": account.id, "s": "KO", "qty": "5"}, token=alice.token)
    assert closed["closePosition"]["side"] == "SELL"

    resumed = await app.data(RESUME, {"a": account.id}, token=alice.token)
    assert resumed["resumeAccount"]["halted"] is False
    assert (await _sandbox_configuration(app, account))["suspend_trade"] is False
    await app.data(PLACE, _buy(account), token=alice.token)

    trail = await owner.fetch(
        "select event, source, guard from app.guard_audit where account_id = $1"
        " order by created_at",
        UUID(account.id),
    )
    events = [(r["event"], r["source"], r["guard"]) for r in trail]
    assert ("HALTED", "owner", None) in events and ("RESUMED", "owner", None) in events
    for source in ("ticket", "confirm", "chat"):
        assert ("REFUSED", source, "account_halted") in events, source
    assert ("ALLOWED", "close", None) in events


async def test_risk03_loosening_a_live_account_needs_a_fresh_sign_in(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """RISK-03: on a live account, tightening is always possible; loosening a limit, a
    broker brake or resuming, once the sign-in is over 5 minutes old, is FORBIDDEN with
    reason FRESH_SIGN_IN_REQUIRED and changes nothing; a new sign-in allows it."""
    alice, account = await _trader(app, environment="LIVE")
    strict = {"maxOrderNotional": "1000", "deniedSymbols": ["TSLA"], "allowShort": False}
    await app.data(SET_LIMITS, {"a": account.id, "input": strict}, token=alice.token)
    await _age_sessions(owner, alice)
    tighter = {**strict, "maxOrderNotional": "500", "deniedSymbols": ["TSLA", "NVDA"]}
    await app.data(SET_LIMITS, {"a": account.id, "input": tighter}, token=alice.token)
    for looser in (
        {**tighter, "maxOrderNotional": "501"},
        {**tighter, "maxOrderNotional": None},
        {**tighter, "deniedSymbols": ["TSLA"]},
        {**tighter, "allowShort": True},
    ):
        refused = _error(await _set(app, alice, account, **looser))
        assert (refused["code"], refused["reason"]) == ("FORBIDDEN", "FRESH_SIGN_IN_REQUIRED")
    kept = (await app.data(ACCOUNT, {"a": account.id}, token=alice.token))["account"]
    assert kept["limits"]["maxOrderNotional"] == "500"

    await app.data(HALT, {"a": account.id}, token=alice.token)
    resume = _error(await app.gql(RESUME, {"a": account.id}, token=alice.token))
    assert resume["reason"] == "FRESH_SIGN_IN_REQUIRED"
    await app.data(
        SET_CONFIGURATION, {"a": account.id, "input": {"noShorting": True}}, token=alice.token
    )
    shorting = {"a": account.id, "input": {"noShorting": False}}
    assert _error(await app.gql(SET_CONFIGURATION, shorting, token=alice.token))["reason"] == (
        "FRESH_SIGN_IN_REQUIRED"
    )

    fresh = await app.sign_in(alice.email)
    await app.data(SET_LIMITS, {"a": account.id, "input": {}}, token=fresh.token)
    assert (await app.data(RESUME, {"a": account.id}, token=fresh.token))["resumeAccount"][
        "halted"
    ] is False
    configured = await app.data(SET_CONFIGURATION, shorting, token=fresh.token)
    assert configured["setBrokerConfiguration"]["noShorting"] is False


async def test_risk01_concurrent_limit_writes_leave_one_whole_write(app: InProcessApp) -> None:
    """RISK-01: writes race; the result is exactly one of them, never a mix."""
    alice, account = await _trader(app)
    writes = [
        {"maxOrdersPerDay": n, "maxOrderNotional": str(n * 100), "deniedSymbols": [f"S{n}"]}
        for n in range(1, 9)
    ]
    await asyncio.gather(*(_set(app, alice, account, **w) for w in writes))
    limits = (await app.data(ACCOUNT, {"a": account.id}, token=alice.token))["account"]["limits"]
    n = limits["maxOrdersPerDay"]
    assert limits["maxOrderNotional"] == str(n * 100) and limits["deniedSymbols"] == [f"S{n}"]


# Every root mutation: the ones that reach orders, each proved below to pass the check,
# and the ones that do not. A new mutation must be put in one of the two.
ORDER_MUTATIONS = {
    "placeOrder",
    "confirmOrder",
    "closePosition",
    "sendChatMessage",
    "cancelOrder",
    "replaceOrder",
}
NOT_ORDERS = {
    "signUp",
    "signIn",
    "signOut",
    "createInvite",
    "addAccount",
    "updateAccountCredentials",
    "renameAccount",
    "removeAccount",
    "setActiveAccount",
    "setChatAutoExecute",
    "dismissProposal",
    "setAccountLimits",
    "haltAccount",
    "resumeAccount",
    "setBrokerConfiguration",
    "addPushSubscription",
    "removePushSubscription",
    "setNotificationSettings",
    "sendTestNotification",
    "addToWatchlist",
    "removeFromWatchlist",
    "beginPasskeyRegistration",
    "finishPasskeyRegistration",
    "beginPasskeySignIn",
    "finishPasskeySignIn",
    "removePasskey",
    "revokeInvite",
    "setUserDisabled",
}
ORDER_TOOLS = {
    "propose_order",
    "replace_order",
    "close_position",
    "close_all_positions",
    "cancel_order",
}
READ_TOOLS = {"account_summary", "positions", "orders", "quote", "find_symbol"}


async def test_risk01_every_order_path_is_known_and_goes_through_the_check(
    app: InProcessApp,
) -> None:
    """RISK-01: derived from the schema's Mutation fields and the chat's tool registry;
    with AAPL denied, each path that would send a new AAPL order is refused and the broker
    receives nothing (cancelling and closing only reduce risk and are not refused)."""
    mutations = set(schema_from_sdl(build_schema().as_str()).mutation_type.fields)  # type: ignore[union-attr]
    unknown = mutations - ORDER_MUTATIONS - NOT_ORDERS
    assert not unknown, f"say whether these reach orders, and prove the check: {unknown}"
    tools = {tool.name for tool in build_tools(_NoActions())}
    assert tools == ORDER_TOOLS | READ_TOOLS, "a new chat tool must be classified here"

    alice, account = await _trader(app)
    # the resting limit below sits near this price: other tests of the session move it
    await asyncio.to_thread(app.sandbox.set_price, "AAPL", "190.00")
    pending = await app.data(CHAT, {"text": "buy 1 AAPL", "a": account.id}, token=alice.token)
    (proposal,) = pending["sendChatMessage"]["reply"]["proposals"]
    resting = await app.data(
        PLACE,
        _buy(account, type="LIMIT", limitPrice="180", timeInForce="GTC"),
        token=alice.token,
    )
    before = _received(app, account)
    await _set(app, alice, account, deniedSymbols=["AAPL"])
    change = {"a": account.id, "o": resting["placeOrder"]["id"], "input": {"limitPrice": "181"}}
    refusals = [
        await app.gql(PLACE, _buy(account), token=alice.token),
        await app.gql(CONFIRM, {"p": proposal["id"]}, token=alice.token),
        await app.gql(REPLACE, change, token=alice.token),
    ]
    for refused in refusals:
        assert _error(refused)["guard"] == "symbol_denied"
    chat = await app.data(CHAT, {"text": "buy 1 AAPL", "a": account.id}, token=alice.token)
    (call,) = chat["sendChatMessage"]["reply"]["toolCalls"]
    assert (call["name"], call["result"]["error"]["guard"]) == ("propose_order", "symbol_denied")
    text = {"text": "change my AAPL limit to 182", "a": account.id}
    chat = await app.data(CHAT, text, token=alice.token)
    *_, call = chat["sendChatMessage"]["reply"]["toolCalls"]
    assert (call["name"], call["result"]["error"]["guard"]) == ("replace_order", "symbol_denied")
    assert _received(app, account) == before == 1


class _NoActions:
    """Only for listing the registry: no tool is called."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"no tool may be called here ({name})")


_BRAKE_WORDS = (
    "limits",
    "halt",
    "resume",
    "configuration",
    "suspend",
    "deny",
    "allow_short",
    "daily loss",
    "max_order",
    "max_daily",
    "orders_per_day",
)


def test_risk03_no_chat_tool_can_see_or_change_limits_halt_or_configuration() -> None:
    """RISK-03: no tool's name, description or argument schema names a limit, the halt or
    the broker's configuration, and no tool can reach them: the registry is built over the
    chat's AccountActions, which has no method for any of them."""
    for tool in build_tools(_NoActions()):
        text = json.dumps(tool.openai()).lower()
        for word in _BRAKE_WORDS:
            assert word not in text, (tool.name, word)
    reachable = {name for name in dir(AccountActions) if not name.startswith("_")}
    assert reachable == {
        "find_symbol",
        "summary",
        "positions",
        "orders",
        "quote",
        "propose_order",
        "replace_order",
        "cancel_order",
        "close_position",
        "close_all",
    }
