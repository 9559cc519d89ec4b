"""The sandbox's market clock and its one source of "now".

Market hours decide whether an order rests as ``accepted`` or executes, and when
a day order expires; tests open and close the market through ``/_sandbox/clock``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC)


class MarketClock:
    """Market hours as the sandbox reports them; open unless a test closes it."""

    def __init__(self) -> None:
        self.is_open = True

    def next_close(self, at: datetime) -> datetime:
        close = at.replace(hour=20, minute=0, second=0, microsecond=0)
        return close if close > at else close + timedelta(days=1)

    def next_open(self, at: datetime) -> datetime:
        opening = at.replace(hour=13, minute=30, second=0, microsecond=0)
        while opening <= at or (self.is_open and opening < self.next_close(at)):
            opening += timedelta(days=1)
        return opening
