"""Broker faults seen through GraphQL: one slow account, an exhausted rate budget.

ISO-01 in service as well as data: one account whose broker is slow (the
sandbox's per-key latency) never holds up another person's calls, and its own
calls answer within their timeout instead of queueing past it. RATE_LIMITED
says when the broker's budget refills (`X-RateLimit-Reset`), not a guess.
"""

from __future__ import annotations

import asyncio
import logging
import time
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

POSITIONS = "query($a: UUID) { positions(accountId: $a) { symbol } }"
# the gateway's read timeout here (BROKER_TIMEOUT_SECONDS)
READ_TIMEOUT = 3.0


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path, sandbox: SandboxHandle) -> Settings:
    settings = inprocess_settings(database_url, tmp_path / "home", sandbox)
    return replace(settings, broker_timeout_seconds=READ_TIMEOUT)


async def _trader(app: InProcessApp) -> tuple[SignedInUser, AddedAccount]:
    user = await app.sign_up()
    return user, await app.add_paper_account(user.token)


async def _timed(app: InProcessApp, user: SignedInUser, account: AddedAccount) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = await app.gql(POSITIONS, {"a": account.id}, token=user.token)
    return time.perf_counter() - started, answer


async def test_iso01_one_slow_account_does_not_slow_another_persons_calls(
    app: InProcessApp,
) -> None:
    """ISO-01: 20 calls in flight to an account answering in 1 s leave another person's
    `positions` fast (before the bulkhead: 16 shared workers, p99 over 2 s), and none of the
    slow account's calls takes longer than its timeout."""
    slow_user, slow = await _trader(app)
    fast_user, fast = await _trader(app)
    app.sandbox.set_faults(latency_ms=1000, key_id=slow.keys["api_key_id"])
    slow_calls = [asyncio.create_task(_timed(app, slow_user, slow)) for _ in range(20)]
    await asyncio.sleep(0.3)  # the slow calls are in flight

    fast_times = []
    for _ in range(20):
        seconds, answer = await _timed(app, fast_user, fast)
        assert answer == {"data": {"positions": []}}
        fast_times.append(seconds)
    slow_results = await asyncio.gather(*slow_calls)

    assert max(fast_times) < 1.0, f"the other person waited {max(fast_times):.2f} s"
    slow_times = [seconds for seconds, _ in slow_results]
    assert max(slow_times) < READ_TIMEOUT + 1.5, f"a slow call took {max(slow_times):.1f} s"
    answered = [answer for _, answer in slow_results if "errors" not in answer]
    refused = [codes(answer) for _, answer in slow_results if "errors" in answer]
    assert answered, "the slow account's calls still get through, a few at a time"
    assert all(code == ["BROKER_UNAVAILABLE"] for code in refused)
    assert app.services.gateway.accounts_with_calls_in_flight == 0


async def test_rate_limited_retry_after_is_when_the_budget_refills(app: InProcessApp) -> None:
    """RATE_LIMITED's retryAfter is the broker's X-RateLimit-Reset: under a 20-a-minute budget
    it is the seconds left in that minute, not 1."""
    user, account = await _trader(app)
    app.sandbox.set_faults(rate_limit_per_minute=20, key_id=account.keys["api_key_id"])
    started = time.time()
    answer: dict[str, Any] = {}
    for _ in range(25):
        answer = await app.gql(POSITIONS, {"a": account.id}, token=user.token)
        if "errors" in answer:
            break
    assert codes(answer) == ["RATE_LIMITED"]
    retry_after = answer["errors"][0]["extensions"]["retryAfter"]
    elapsed = time.time() - started
    assert 60 - elapsed - 2 <= retry_after <= 61, retry_after


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_low_budget_warning_is_logged_once_a_window(app: InProcessApp) -> None:
    """Operators see an account's broker budget running low once per minute, not once per
    call (before: one identical line per call, 10 here)."""
    user, account = await _trader(app)
    app.sandbox.set_faults(rate_limit_per_minute=40, key_id=account.keys["api_key_id"])
    logger, lines = logging.getLogger("api.broker.transport"), _Lines()
    logger.addHandler(lines)
    try:
        for _ in range(30):
            await app.data(POSITIONS, {"a": account.id}, token=user.token)
    finally:
        logger.removeHandler(lines)
    assert len([line for line in lines.lines if "broker calls left" in line]) == 1
