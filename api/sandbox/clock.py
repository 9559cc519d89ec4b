"""The sandbox's market clock and its one source of "now".

Market hours decide whether an order rests as ``accepted`` or executes, and when
a day order expires; tests open and close the market through ``/_sandbox/clock``.
Sessions run 13:30-20:00 UTC (09:30-16:00 New York in summer time), 18:00 UTC
on a half day (HIST-04: the calendar shows such an early close).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.sandbox.calendar import is_half_day

SESSION_OPEN = time(13, 30)
SESSION_CLOSE = time(20, 0)
EARLY_CLOSE = time(18, 0)
MARKET_TIME_ZONE = ZoneInfo("America/New_York")


def now() -> datetime:
    return datetime.now(UTC)


def market_today() -> date:
    """Today's date in New York: what a client (and Alpaca) calls "today", also in the
    hours after midnight UTC, when the UTC date is already the next day's."""
    return now().astimezone(MARKET_TIME_ZONE).date()


class MarketClock:
    """Market hours as the sandbox reports them; open unless a test closes it."""

    def __init__(self) -> None:
        self.is_open = True
        # Days a test declared half days, on top of the calendar's own (api.sandbox.calendar).
        self.half_days: set[date] = set()

    def closes_early(self, day: date) -> bool:
        return day in self.half_days or is_half_day(day)

    def close_on(self, day: date) -> datetime:
        closing = EARLY_CLOSE if self.closes_early(day) else SESSION_CLOSE
        return datetime.combine(day, closing, UTC)

    def next_close(self, at: datetime) -> datetime:
        close = self.close_on(at.date())
        return close if close > at else self.close_on(at.date() + timedelta(days=1))

    def next_open(self, at: datetime) -> datetime:
        opening = at.replace(hour=13, minute=30, second=0, microsecond=0)
        while opening <= at or (self.is_open and opening < self.next_close(at)):
            opening += timedelta(days=1)
        return opening
