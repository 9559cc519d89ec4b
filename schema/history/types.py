"""GraphQL types of the history and market views, mapped from api.markets and api.broker."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from api.broker import BrokerAsset, BrokerQuote
from api.broker.market_models import BrokerActivity, BrokerBar
from api.markets import MarketClock as ClockRecord
from api.markets import PortfolioHistory as HistoryRecord
from api.markets import PortfolioPoint, WatchlistView
from api.markets import WatchlistEntry as EntryRecord


@strawberry.type(description="The account's equity at the end of the window starting at `at`.")
class EquityPoint:
    at: datetime
    equity: Decimal
    profit_loss: Decimal = strawberry.field(description="equity less the base value")
    profit_loss_percent: Decimal | None = strawberry.field(description="fraction, 0.05 = 5 %")

    @classmethod
    def of(cls, p: PortfolioPoint) -> EquityPoint:
        return cls(
            at=p.at,
            equity=p.equity,
            profit_loss=p.profit_loss,
            profit_loss_percent=p.profit_loss_percent,
        )


@strawberry.type(description="Portfolio value over a period, with profit and loss (HIST-01).")
class PortfolioHistory:
    period: str
    timeframe: str
    points: list[EquityPoint]
    base_value: Decimal = strawberry.field(description="the equity profit and loss count from")
    profit_loss: Decimal = strawberry.field(description="of the last point")
    profit_loss_percent: Decimal | None = strawberry.field(description="fraction, of the last")
    note: str | None = strawberry.field(
        description="why the points are not what was asked for, e.g. the previous day before "
        "today's open"
    )

    @classmethod
    def of(cls, h: HistoryRecord) -> PortfolioHistory:
        return cls(
            period=h.period,
            timeframe=h.timeframe,
            points=[EquityPoint.of(p) for p in h.points],
            base_value=h.base_value,
            profit_loss=h.profit_loss,
            profit_loss_percent=h.profit_loss_percent,
            note=h.note,
        )


@strawberry.type(description="A fill, dividend, fee or transfer of the account (HIST-02).")
class Activity:
    id: str
    kind: str = strawberry.field(description="Alpaca's activity type: FILL, DIV, FEE, CSD ...")
    symbol: str | None
    side: str | None
    qty: Decimal | None
    price: Decimal | None = strawberry.field(description="per share; a dividend's per share")
    net_amount: Decimal | None = strawberry.field(description="cash moved, negative if paid")
    description: str | None
    at: datetime

    @classmethod
    def of(cls, a: BrokerActivity) -> Activity:
        return cls(
            id=a.id,
            kind=a.kind,
            symbol=a.symbol,
            side=a.side,
            qty=a.qty,
            price=a.price,
            net_amount=a.net_amount,
            description=a.description,
            at=a.at,
        )


@strawberry.type(description="A price bar (HIST-03).")
class Bar:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @classmethod
    def of(cls, b: BrokerBar) -> Bar:
        return cls(at=b.at, open=b.open, high=b.high, low=b.low, close=b.close, volume=b.volume)


@strawberry.type(description="The latest bid and ask of a symbol.")
class Quote:
    symbol: str
    bid_price: Decimal
    bid_size: Decimal
    ask_price: Decimal
    ask_size: Decimal
    at: datetime

    @classmethod
    def of(cls, q: BrokerQuote) -> Quote:
        return cls(
            symbol=q.symbol,
            bid_price=q.bid_price,
            bid_size=q.bid_size,
            ask_price=q.ask_price,
            ask_size=q.ask_size,
            at=q.timestamp,
        )


@strawberry.type(description="A symbol the broker lists, with its company's name.")
class Instrument:
    symbol: str
    name: str | None
    exchange: str
    tradable: bool
    fractionable: bool
    shortable: bool

    @classmethod
    def of(cls, a: BrokerAsset) -> Instrument:
        return cls(
            symbol=a.symbol,
            name=a.name,
            exchange=a.exchange,
            tradable=a.tradable,
            fractionable=a.fractionable,
            shortable=a.shortable,
        )


@strawberry.type
class WatchlistEntry:
    symbol: str
    name: str | None
    quote: Quote | None

    @classmethod
    def of(cls, e: EntryRecord) -> WatchlistEntry:
        return cls(symbol=e.symbol, name=e.name, quote=Quote.of(e.quote) if e.quote else None)


@strawberry.type(description="The account's watchlist, kept at the broker.")
class Watchlist:
    name: str
    entries: list[WatchlistEntry]

    @classmethod
    def of(cls, w: WatchlistView) -> Watchlist:
        return cls(name=w.name, entries=[WatchlistEntry.of(e) for e in w.entries])


@strawberry.type(description="Whether the market is open, and when it opens and closes next.")
class MarketClock:
    is_open: bool
    next_open: datetime
    next_close: datetime
    today_close: datetime | None = strawberry.field(description="null when today is no trading day")
    closes_early: bool = strawberry.field(description="today is a half day")

    @classmethod
    def of(cls, c: ClockRecord) -> MarketClock:
        return cls(
            is_open=c.is_open,
            next_open=c.next_open,
            next_close=c.next_close,
            today_close=c.today_close,
            closes_early=c.closes_early,
        )
