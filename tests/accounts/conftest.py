"""One sandbox-trading server per test module for the account tests.

None of these tests needs an empty install or a clean rate-limit state, and
starting a server costs seconds: `trading_server` is the module's shared one,
`make_trader("alice@example.com")` signs up a user no other test has
(`alice-<n>@example.com`), and a test that reads the database looks only at
its own users' rows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.server import RunningServer
from tests.fixtures.trading import Trader


@pytest.fixture(scope="module")
def trading_server(shared_trading_server: RunningServer) -> RunningServer:
    return shared_trading_server


@pytest.fixture
def make_trader(make_shared_trader: Callable[[str], Trader]) -> Callable[[str], Trader]:
    return make_shared_trader
