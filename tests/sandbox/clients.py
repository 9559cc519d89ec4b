"""alpaca-py clients pointed at the sandbox, exactly as the product points them (OPS-03)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream

if TYPE_CHECKING:
    # Imported lazily: the sandbox plugin must be registered (and assertion-rewritten) first.
    from tests.fixtures.sandbox import SandboxHandle


def make_trading_client(
    sandbox: SandboxHandle, keys: dict[str, str], environment: str = "paper", retries: int = 3
) -> TradingClient:
    client = TradingClient(
        keys["api_key_id"],
        keys["secret_key"],
        paper=environment == "paper",
        url_override=sandbox.trading_url(environment),
    )
    # TradingClient takes no retry arguments; RESTClient keeps them in these attributes.
    # A short wait keeps the 429 tests fast; retries=0 turns retrying off.
    client._retry = retries
    client._retry_wait = 0.05  # type: ignore[assignment]
    return client


def make_data_client(sandbox: SandboxHandle, keys: dict[str, str]) -> StockHistoricalDataClient:
    return StockHistoricalDataClient(
        keys["api_key_id"], keys["secret_key"], url_override=sandbox.data_url
    )


def make_stream(
    sandbox: SandboxHandle, keys: dict[str, str], environment: str = "paper"
) -> TradingStream:
    return TradingStream(
        keys["api_key_id"],
        keys["secret_key"],
        paper=environment == "paper",
        url_override=sandbox.stream_url(environment),
    )


def auth_headers(keys: dict[str, str]) -> dict[str, str]:
    return {"APCA-API-KEY-ID": keys["api_key_id"], "APCA-API-SECRET-KEY": keys["secret_key"]}
