"""Shared fixtures of the sandbox broker tests (OPS-03).

``pytest_configure`` makes the sandbox plugin available even before the root
conftest lists it; ``import_plugin`` is idempotent, so this stays correct once
``tests/conftest.py`` has ``"tests.fixtures.sandbox"`` in ``pytest_plugins``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.sandbox.clients import make_trading_client

if TYPE_CHECKING:
    from alpaca.trading.client import TradingClient

    from tests.fixtures.sandbox import SandboxHandle


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("tests.fixtures.sandbox")


@pytest.fixture
def paper_keys(sandbox: SandboxHandle) -> dict[str, str]:
    """A fresh paper account with $100,000 and 10 AAPL bought at $150."""
    return sandbox.mint_account(
        positions=[{"symbol": "AAPL", "qty": "10", "avg_entry_price": "150"}]
    )


@pytest.fixture
def trading(sandbox: SandboxHandle, paper_keys: dict[str, str]) -> TradingClient:
    """alpaca-py's own TradingClient on the sandbox's paper endpoint."""
    return make_trading_client(sandbox, paper_keys)
