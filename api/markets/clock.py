"""The market clock as the header shows it (HIST-04): open or closed, the next open and
close, and whether today closes early, which only the calendar tells.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from api.broker import BrokerGateway
from api.broker.market_parse import MARKET_TIME_ZONE
from api.broker.models import AccountRef

_REGULAR_CLOSE = time(16, 0)


@dataclass(frozen=True, slots=True)
class MarketClock:
    is_open: bool
    next_open: datetime
    next_close: datetime
    # Today's close when today is a trading day; earlier than 16:00 New York on a half day.
    today_close: datetime | None
    closes_early: bool


async def market_clock(gateway: BrokerGateway, ref: AccountRef) -> MarketClock:
    clock = await gateway.clock(ref)
    today = datetime.now(UTC).astimezone(MARKET_TIME_ZONE).date()
    days = await gateway.market.calendar(ref, today, today)
    close = next((d.close for d in days if d.date == today), None)
    early = close is not None and close.astimezone(MARKET_TIME_ZONE).time() < _REGULAR_CLOSE
    return MarketClock(clock.is_open, clock.next_open, clock.next_close, close, early)
