"""TRADE-05 through GraphQL under injected broker faults: `PlaceOrderInput.idempotencyKey`.

The same key never places a second order: not on a retry after the broker took
the order but neither its answer nor the lookup by client order id came back,
not on a double-click, not from another process (the client order id is derived
from the account and the key, nothing kept in memory). An answer only promises
that trying again is safe when the request carried a key.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.config import Settings
from tests.fixtures.inprocess import (
    AddedAccount,
    InProcessApp,
    SignedInUser,
    codes,
    inprocess_settings,
)
from tests.fixtures.sandbox import SandboxHandle

PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id clientOrderId symbol qty status } }"""
# the gateway's read timeout here (BROKER_TIMEOUT_SECONDS)
READ_TIMEOUT = 2.0


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path, sandbox: SandboxHandle) -> Settings:
    settings = inprocess_settings(database_url, tmp_path / "home", sandbox)
    return replace(settings, broker_timeout_seconds=READ_TIMEOUT)


def _buy(account: AddedAccount, key: str | None, qty: str = "1") -> dict[str, Any]:
    order: dict[str, Any] = {"accountId": account.id, "symbol": "AAPL", "side": "BUY", "qty": qty}
    if key is not None:
        order["idempotencyKey"] = key
    return {"input": order}


def _stats(app: InProcessApp, account: AddedAccount) -> dict[str, Any]:
    stats: dict[str, Any] = app.sandbox.stats()[account.keys["account_number"]]
    return stats


async def _trader(app: InProcessApp) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token)


async def _unanswered_and_unaskable(
    app: InProcessApp, user: SignedInUser, account: AddedAccount, key: str | None
) -> dict[str, Any]:
    """placeOrder while the broker takes the order, holds its answer past the timeout and
    then fails every lookup of it: the answer the client gets."""
    app.sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 2)
    placing = asyncio.create_task(app.gql(PLACE, _buy(account, key), token=user.token))
    received = _stats(app, account)["orders_received"]
    async with asyncio.timeout(5):
        while _stats(app, account)["orders_received"] == received:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    # the order is in; from now on every read of this account fails
    app.sandbox.set_faults(error_status=503, error_count=50, key_id=account.keys["api_key_id"])
    answer = await placing
    app.sandbox.clear_faults()
    return answer


async def test_trade05_retry_under_the_same_key_after_an_unanswered_order_places_once(
    app: InProcessApp,
) -> None:
    """TRADE-05: the answer says a retry is safe, and it is: the retry under the same key
    finds the first order (before the key existed, the retry placed a second one)."""
    user, account = await _trader(app)
    answer = await _unanswered_and_unaskable(app, user, account, "ticket-1")
    assert codes(answer) == ["BROKER_UNAVAILABLE"]
    assert "again is safe" in answer["errors"][0]["message"]
    assert _stats(app, account)["orders"] == 1

    retried = (await app.data(PLACE, _buy(account, "ticket-1"), token=user.token))["placeOrder"]
    assert _stats(app, account)["orders"] == 1, "the retry placed a second order"
    again = (await app.data(PLACE, _buy(account, "ticket-1"), token=user.token))["placeOrder"]
    assert again["id"] == retried["id"]
    assert _stats(app, account)["orders"] == 1


async def test_trade05_without_a_key_the_answer_never_promises_a_safe_retry(
    app: InProcessApp,
) -> None:
    """TRADE-05: without an idempotency key a retry is a new order, so the answer says to
    check the orders first instead of promising that trying again is safe."""
    user, account = await _trader(app)
    answer = await _unanswered_and_unaskable(app, user, account, None)
    assert codes(answer) == ["BROKER_UNAVAILABLE"]
    message = answer["errors"][0]["message"]
    assert "safe" not in message and "check your orders" in message


async def test_trade05_double_click_with_one_key_is_one_order(app: InProcessApp) -> None:
    """TRADE-05: two submissions of one ticket at once (a double-click) place one order and
    both answer with it; the same key on another account is that account's own order."""
    user, account = await _trader(app)
    first, second = await asyncio.gather(
        app.data(PLACE, _buy(account, "double-click"), token=user.token),
        app.data(PLACE, _buy(account, "double-click"), token=user.token),
    )
    assert first["placeOrder"]["id"] == second["placeOrder"]["id"]
    assert _stats(app, account)["orders"] == 1

    other = await app.add_paper_account(user.token, "Side")
    elsewhere = await app.data(PLACE, _buy(other, "double-click"), token=user.token)
    assert elsewhere["placeOrder"]["id"] != first["placeOrder"]["id"]
    assert _stats(app, other)["orders"] == 1


async def test_trade05_a_key_stands_for_one_order_body(app: InProcessApp) -> None:
    """TRADE-05: the same key with another order is BAD_USER_INPUT and sends nothing; a key
    must be printable and short."""
    user, account = await _trader(app)
    await app.data(PLACE, _buy(account, "k-1", qty="1"), token=user.token)
    changed = await app.gql(PLACE, _buy(account, "k-1", qty="2"), token=user.token)
    assert codes(changed) == ["BAD_USER_INPUT"]
    assert changed["errors"][0]["message"] == "this idempotency key was used for another order"
    assert codes(await app.gql(PLACE, _buy(account, " "), token=user.token)) == ["BAD_USER_INPUT"]
    assert codes(await app.gql(PLACE, _buy(account, "x" * 201), token=user.token)) == [
        "BAD_USER_INPUT"
    ]
    assert _stats(app, account)["orders_received"] == 1


CONFIRM = "mutation($p: UUID!) { confirmOrder(proposalId: $p) { id } }"


async def test_trade05_ten_confirms_at_once_are_one_order_and_few_broker_reads(
    app: InProcessApp,
) -> None:
    """TRADE-05: ten concurrent confirmOrder of one proposal place one order; the proposal is
    claimed before it is checked, so only the winner reads the broker (before: ~40 reads)."""
    user = await app.sign_up()
    account = await app.add_paper_account(user.token, environment="LIVE")
    proposed = await app.gql(PLACE, _buy(account, None), token=user.token)
    assert codes(proposed) == ["CONFIRMATION_REQUIRED"]
    proposal_id = proposed["errors"][0]["extensions"]["proposal"]["id"]
    calls_before = _stats(app, account)["rest_calls"]
    answers = await asyncio.gather(
        *(app.gql(CONFIRM, {"p": proposal_id}, token=user.token) for _ in range(10))
    )
    placed = [answer for answer in answers if "errors" not in answer]
    assert len(placed) == 1
    assert all(codes(answer) == ["BAD_USER_INPUT"] for answer in answers if answer not in placed)
    assert _stats(app, account)["orders"] == 1
    broker_calls = _stats(app, account)["rest_calls"] - calls_before
    assert broker_calls <= 6, f"{broker_calls} broker calls for one confirmation"
