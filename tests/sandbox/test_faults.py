"""OPS-03: injected faults are observable through alpaca-py, and the stats count calls."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.requests import LimitOrderRequest

from tests.fixtures.sandbox import SandboxHandle
from tests.sandbox.clients import auth_headers, make_trading_client


def _rest_calls(sandbox: SandboxHandle, keys: dict[str, str]) -> int:
    calls: int = sandbox.stats()[keys["account_number"]]["rest_calls"]
    return calls


def test_ops03_latency_is_added_to_rest_calls(sandbox: SandboxHandle) -> None:
    trading = make_trading_client(sandbox, sandbox.mint_account())
    sandbox.set_faults(latency_ms=300)
    started = time.monotonic()
    trading.get_account()
    assert time.monotonic() - started >= 0.3
    sandbox.clear_faults()
    started = time.monotonic()
    trading.get_account()
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_ops03_next_calls_fail_with_the_chosen_status(sandbox: SandboxHandle, status: int) -> None:
    trading = make_trading_client(sandbox, sandbox.mint_account(), retries=0)
    sandbox.set_faults(error_status=status, error_count=2)
    for _ in range(2):
        with pytest.raises(APIError) as failed:
            trading.get_account()
        assert failed.value.status_code == status
    assert trading.get_account().status == "ACTIVE"


def test_ops03_error_rate_one_fails_every_call(sandbox: SandboxHandle) -> None:
    trading = make_trading_client(sandbox, sandbox.mint_account(), retries=0)
    sandbox.set_faults(error_rate=1.0)
    with pytest.raises(APIError) as failed:
        trading.get_clock()
    assert failed.value.status_code == 500


def test_ops03_forced_429_is_retried_by_alpaca_py(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account()
    sandbox.set_faults(force_429=1)
    response = httpx.get(f"{sandbox.paper_url}/v2/account", headers=auth_headers(keys))
    assert response.status_code == 429
    assert response.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert "Retry-After" in response.headers
    sandbox.set_faults(force_429=2)
    before = _rest_calls(sandbox, keys)
    # alpaca-py retries 429 on its own: two refusals, then the answer.
    assert make_trading_client(sandbox, keys).get_account().status == "ACTIVE"
    assert _rest_calls(sandbox, keys) - before == 3


def test_ops03_rate_limit_budget_per_key(sandbox: SandboxHandle) -> None:
    limited, other = sandbox.mint_account(), sandbox.mint_account()
    sandbox.set_faults(rate_limit_per_minute=3, key_id=limited["api_key_id"])
    url = f"{sandbox.paper_url}/v2/clock"
    answers = [httpx.get(url, headers=auth_headers(limited)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[2].headers["X-RateLimit-Remaining"] == "0"
    assert httpx.get(url, headers=auth_headers(other)).status_code == 200
    with pytest.raises(APIError) as refused:
        make_trading_client(sandbox, limited, retries=0).get_clock()
    assert refused.value.status_code == 429


def test_ops03_rate_limit_headers_name_the_true_window_end(sandbox: SandboxHandle) -> None:
    """20 calls a minute: each answer says where the key stands; the 21st is a 429 whose
    ``X-RateLimit-Reset`` is when the minute opened by the first call ends (to the second)."""
    keys = sandbox.mint_account()
    sandbox.set_faults(rate_limit_per_minute=20, key_id=keys["api_key_id"])
    url, headers = f"{sandbox.paper_url}/v2/account", auth_headers(keys)
    sent = time.time()
    answers = [httpx.get(url, headers=headers)]
    answered = time.time()
    answers += [httpx.get(url, headers=headers) for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[-1].json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"20"}
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    assert remaining == [*range(19, -1, -1), 0]
    resets = {int(a.headers["X-RateLimit-Reset"]) for a in answers}
    assert len(resets) == 1
    reset = resets.pop()
    assert sent + 59 < reset <= answered + 60
    # As on Alpaca, the wait is told by X-RateLimit-Reset alone.
    assert "Retry-After" not in answers[-1].headers


def test_ops03_faults_scoped_to_one_key(sandbox: SandboxHandle) -> None:
    target, bystander = sandbox.mint_account(), sandbox.mint_account()
    sandbox.set_faults(error_status=503, error_count=5, key_id=target["api_key_id"])
    assert make_trading_client(sandbox, bystander).get_account().status == "ACTIVE"
    with pytest.raises(APIError):
        make_trading_client(sandbox, target, retries=0).get_account()


def test_ops03_accept_then_timeout_stores_the_order(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account()
    sandbox.set_faults(accept_then_timeout_seconds=2)
    client_order_id = f"slow-{uuid.uuid4()}"
    body = {
        "symbol": "NVDA", "qty": 1, "side": "buy", "type": "limit",
        "time_in_force": "gtc", "limit_price": 60, "client_order_id": client_order_id,
    }  # fmt: skip
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{sandbox.paper_url}/v2/orders", json=body, headers=auth_headers(keys), timeout=0.5
        )
    trading = make_trading_client(sandbox, keys, retries=0)
    stored = trading.get_order_by_client_id(client_order_id)
    assert stored.symbol == "NVDA"
    # The retry with the same client_order_id is refused: the order exists once.
    request = LimitOrderRequest(
        symbol="NVDA", qty=1, side="buy", time_in_force="gtc", limit_price=60,
        client_order_id=client_order_id,
    )  # fmt: skip
    with pytest.raises(APIError) as duplicate:
        trading.submit_order(request)
    assert duplicate.value.status_code == 422
    assert sandbox.stats()[keys["account_number"]]["orders_received"] == 1


def test_ops03_stats_count_orders_and_calls(sandbox: SandboxHandle) -> None:
    keys = sandbox.mint_account(positions=[{"symbol": "KO", "qty": "5"}])
    trading = make_trading_client(sandbox, keys)
    trading.get_account()
    trading.get_all_positions()
    trading.close_position("KO")
    stats = sandbox.stats()[keys["account_number"]]
    assert stats == {
        "environment": "paper",
        "orders_received": 0,
        "orders": 1,
        "stream_connections": 0,
        "rest_calls": 3,
    }


def test_ops03_bad_fault_settings_are_refused(sandbox: SandboxHandle) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.set_faults(error_rate=2)
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.set_faults(latency=5)
