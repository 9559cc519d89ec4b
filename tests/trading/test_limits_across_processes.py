"""The day's order count and loss hold across server processes and restarts (RISK-02).

Two real `alpaca-chat serve` processes on one database and the sandbox broker: the
limit is reached through one process, the next order through the other is refused;
a process is restarted and the count still holds, since it lives in the database
(the order audit) and the loss at the broker, never in one process's memory.
"""

from __future__ import annotations

from typing import Any

from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import StartServer, signed_up_user
from tests.fixtures.trading import PLACE_ORDER, Trader, broker_env

SET_LIMITS = """mutation($a: UUID!, $input: AccountLimitsInput!) {
  setAccountLimits(accountId: $a, input: $input) { id } }"""


def _buy(trader: Trader, account: dict[str, Any]) -> dict[str, Any]:
    order = {"accountId": account["id"], "symbol": "AAPL", "side": "BUY", "qty": "1"}
    return trader.call(PLACE_ORDER, {"input": order})


def _refusal(answer: dict[str, Any]) -> tuple[str, str, str]:
    (error,) = answer["errors"]
    extensions = error["extensions"]
    return extensions["code"], extensions["guard"], extensions["limit"]


def test_risk02_orders_per_day_and_daily_loss_hold_across_processes_and_restarts(
    start_server: StartServer, sandbox: SandboxHandle, known_secrets: set[str]
) -> None:
    """RISK-02: 3 orders a day: three through the first process, the fourth through the
    second is LIMIT_EXCEEDED; after the first restarts, it refuses the fourth too. The
    day's loss limit, set through one process, refuses through the other and after a
    restart; the broker received only the allowed orders."""
    sandbox.set_market_open(False)
    first = start_server(env=broker_env(sandbox))
    second = start_server(database_url=first.database_url, env=broker_env(sandbox))
    token = signed_up_user(first, "limits@example.com")
    on_first = Trader(first, sandbox, token, known_secrets)
    on_second = Trader(second, sandbox, token, known_secrets)
    held = [{"symbol": "UBER", "qty": "100", "avg_entry_price": "72"}]
    account = on_first.add_account("Main", keys=on_first.mint(positions=held))
    number = on_first.keys[account["id"]]["account_number"]
    on_first.data(SET_LIMITS, {"a": account["id"], "input": {"maxOrdersPerDay": 3}})

    for _ in range(3):
        assert "errors" not in _buy(on_first, account)
    refused = ("LIMIT_EXCEEDED", "max_orders_per_day", "3")
    assert _refusal(_buy(on_second, account)) == refused

    first.stop()
    restarted = Trader(
        start_server(database_url=second.database_url, env=broker_env(sandbox)),
        sandbox,
        token,
        known_secrets,
    )
    assert _refusal(_buy(restarted, account)) == refused
    assert _refusal(_buy(on_second, account)) == refused
    assert sandbox.stats()[number]["orders_received"] == 3

    restarted.data(SET_LIMITS, {"a": account["id"], "input": {"maxDailyLoss": "500"}})
    sandbox.set_price("UBER", "60")  # 100 shares down 12: a loss of about 1,200
    try:
        lost = ("LIMIT_EXCEEDED", "max_daily_loss", "500")
        assert _refusal(_buy(on_second, account)) == lost
        second.stop()
        again = Trader(
            start_server(database_url=restarted.server.database_url, env=broker_env(sandbox)),
            sandbox,
            token,
            known_secrets,
        )
        assert _refusal(_buy(again, account)) == lost
    finally:
        sandbox.set_price("UBER", "72")
    assert sandbox.stats()[number]["orders_received"] == 3
