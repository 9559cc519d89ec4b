"""``MarketGateway``: what the history and market views ask Alpaca (HIST-01..04).

Part of the one door to the broker (decision 2 in docs/architecture.md): it
travels by the gateway's own transport (keys decrypted inside each call,
timeouts, bounded read retries), reached as ``BrokerGateway.market``. Reads
only, apart from the account's watchlist. Market data needs keys too: every
call is made as one stored account, whose rate budget it spends, so quotes of
many symbols go in one batched call.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote as quote_path

from api.broker import market_parse, parse
from api.broker.errors import bad_input
from api.broker.market_models import BrokerActivity, BrokerBar, EquityHistory, TradingDay, Watchlist
from api.broker.models import AccountRef, BrokerAsset, BrokerQuote
from api.broker.orders import symbol
from api.broker.transport import Transport

MAX_ACTIVITY_PAGE = 100
MAX_BARS = 10_000
MAX_QUOTE_SYMBOLS = 200


class MarketGateway:
    def __init__(self, transport: Transport, rest: dict[str, str], data: str) -> None:
        self._transport = transport
        self._rest = rest
        self._data = data

    def _base(self, ref: AccountRef) -> str:
        return self._rest[ref.environment]

    async def portfolio_history(
        self, ref: AccountRef, period: str, timeframe: str, date_end: date | None = None
    ) -> EquityHistory:
        """Equity over ``period`` in ``timeframe`` buckets (both checked by the caller)."""
        params: dict[str, Any] = {"period": period, "timeframe": timeframe}
        if date_end is not None:
            params["date_end"] = date_end.isoformat()
        answer = await self._transport.read(
            ref, self._base(ref), "/v2/account/portfolio/history", params, parse_float=Decimal
        )
        return parse.parsed(lambda: market_parse.equity_history(answer.body))

    async def activities(
        self, ref: AccountRef, page_size: int, page_token: str | None = None
    ) -> list[BrokerActivity]:
        """One page of the account's activities, newest first."""
        if not 1 <= page_size <= MAX_ACTIVITY_PAGE:
            raise bad_input(f"page_size must be between 1 and {MAX_ACTIVITY_PAGE}")
        params: dict[str, Any] = {"direction": "desc", "page_size": page_size}
        if page_token is not None:
            params["page_token"] = page_token
        answer = await self._transport.read(ref, self._base(ref), "/v2/account/activities", params)
        return parse.parsed(lambda: market_parse.activities(answer.body))

    async def bars(
        self, ref: AccountRef, ticker: str, timeframe: str, start: datetime, limit: int
    ) -> list[BrokerBar]:
        """The newest ``limit`` bars since ``start``, oldest first."""
        sym = symbol(ticker)
        if not 1 <= limit <= MAX_BARS:
            raise bad_input(f"limit must be between 1 and {MAX_BARS}")
        params = {
            "symbols": sym,
            "timeframe": timeframe,
            "start": start.isoformat(),
            "limit": limit,
            "sort": "desc",
        }
        answer = await self._transport.read(
            ref, self._data, "/v2/stocks/bars", params, parse_float=Decimal
        )
        found = answer.body.get("bars") if isinstance(answer.body, dict) else None
        raw = found.get(sym, []) if isinstance(found, dict) else []
        newest_first = parse.parsed(lambda: market_parse.bars(sym, raw))
        return newest_first[::-1]

    async def latest_quotes(self, ref: AccountRef, tickers: list[str]) -> dict[str, BrokerQuote]:
        """Latest quotes of many symbols in one call; symbols the broker does not know are
        left out."""
        symbols = sorted({symbol(t) for t in tickers})
        if not symbols:
            return {}
        if len(symbols) > MAX_QUOTE_SYMBOLS:
            raise bad_input(f"at most {MAX_QUOTE_SYMBOLS} symbols at once")
        answer = await self._transport.read(
            ref,
            self._data,
            "/v2/stocks/quotes/latest",
            {"symbols": ",".join(symbols)},
            parse_float=Decimal,
        )
        quotes = answer.body.get("quotes") if isinstance(answer.body, dict) else None
        if not isinstance(quotes, dict):
            return {}
        return parse.parsed(
            lambda: {s: parse.quote(s, raw) for s, raw in quotes.items() if s in symbols}
        )

    async def assets(self, ref: AccountRef) -> list[BrokerAsset]:
        """Every active US equity the broker lists (public data, thousands of them)."""
        params = {"status": "active", "asset_class": "us_equity"}
        answer = await self._transport.read(ref, self._base(ref), "/v2/assets", params)
        return parse.parsed(lambda: _assets(answer.body))

    async def calendar(self, ref: AccountRef, start: date, end: date) -> list[TradingDay]:
        params = {"start": start.isoformat(), "end": end.isoformat()}
        answer = await self._transport.read(ref, self._base(ref), "/v2/calendar", params)
        return parse.parsed(lambda: market_parse.calendar(answer.body))

    # ------------------------------------------------------------------ watchlists

    async def watchlists(self, ref: AccountRef) -> list[Watchlist]:
        answer = await self._transport.read(ref, self._base(ref), "/v2/watchlists")
        return parse.parsed(lambda: market_parse.watchlists(answer.body))

    async def watchlist(self, ref: AccountRef, watchlist_id: str) -> Watchlist:
        answer = await self._transport.read(ref, self._base(ref), _watchlist_path(watchlist_id))
        return parse.parsed(lambda: market_parse.watchlist(answer.body))

    async def create_watchlist(self, ref: AccountRef, name: str, tickers: list[str]) -> Watchlist:
        body = {"name": name, "symbols": [symbol(t) for t in tickers]}
        return await self._write(ref, "POST", "/v2/watchlists", body)

    async def add_to_watchlist(self, ref: AccountRef, watchlist_id: str, ticker: str) -> Watchlist:
        body = {"symbol": symbol(ticker)}
        return await self._write(ref, "POST", _watchlist_path(watchlist_id), body)

    async def remove_from_watchlist(
        self, ref: AccountRef, watchlist_id: str, ticker: str
    ) -> Watchlist:
        path = f"{_watchlist_path(watchlist_id)}/{quote_path(symbol(ticker), safe='')}"
        return await self._write(ref, "DELETE", path, None)

    async def _write(
        self, ref: AccountRef, method: str, path: str, body: dict[str, Any] | None
    ) -> Watchlist:
        # A watchlist change is harmless to repeat, but like every write it is sent once.
        sent = await self._transport.send(ref, method, self._base(ref), path, json=body)
        answer = self._transport.expect(sent)
        return parse.parsed(lambda: market_parse.watchlist(answer.body))


def _watchlist_path(watchlist_id: str) -> str:
    return f"/v2/watchlists/{quote_path(watchlist_id, safe='')}"


def _assets(raw: Any) -> list[BrokerAsset]:
    if not isinstance(raw, list):
        raise TypeError("assets must be a list")
    return [parse.asset(item) for item in raw]
