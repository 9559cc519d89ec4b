"""Historical bars (HIST-03), generated from the price walk and the same for the same seed.

The sandbox keeps no tick history, so bars are drawn backwards from the
current price: the newest bar closes at today's price and each older close
follows from a seeded move of the bar's own timestamp. The same seed, symbol,
timeframe and bar time always give the same move, so a chart is stable across
requests and runs while its right edge follows the live price. Intraday bars
exist only inside trading sessions (api.sandbox.calendar, api.sandbox.clock),
daily bars on trading days, labelled at 04:00 UTC (midnight in New York) as
Alpaca labels them.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.calendar import is_trading_day
from api.sandbox.clock import SESSION_OPEN, MarketClock
from api.sandbox.errors import unprocessable
from api.sandbox.prices import CENT

_TIMEFRAME = re.compile(r"^([1-9][0-9]?)(Min|T|Hour|H|Day|D|Week|W)$")
_UNIT_MINUTES = {
    "Min": 1,
    "T": 1,
    "Hour": 60,
    "H": 60,
    "Day": 1440,
    "D": 1440,
    "Week": 10080,
    "W": 10080,
}
# Furthest a chart reaches back, in bars from now: a year of 15-minute bars, ten years of days.
MAX_BARS_BACK = 7000
_DAILY_LABEL = time(4, 0)
_SIGMA_PER_MINUTE = 0.0009


@dataclass(frozen=True, slots=True)
class Timeframe:
    name: str
    minutes: int

    @property
    def intraday(self) -> bool:
        return self.minutes < 1440

    @property
    def trading_minutes(self) -> int:
        """Minutes of trading a bar spans: a day's bar holds one 390-minute session."""
        return self.minutes if self.intraday else self.minutes * 390 // 1440


@dataclass(frozen=True, slots=True)
class Bar:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trades: int


def parse_timeframe(raw: str | None) -> Timeframe:
    match = _TIMEFRAME.match(raw or "")
    if match is None:
        raise _invalid(raw)
    amount, unit = int(match.group(1)), match.group(2)
    minutes = amount * _UNIT_MINUTES[unit]
    if (unit in {"Min", "T"} and amount > 59) or (unit in {"Hour", "H"} and amount > 23):
        raise _invalid(raw)
    if unit in {"Day", "D", "Week", "W"} and amount != 1:
        raise _invalid(raw)
    return Timeframe(raw or "", minutes)


def _invalid(raw: str | None) -> Exception:
    return unprocessable(f"invalid timeframe: {raw}")


def _starts_before(frame: Timeframe, clock: MarketClock, moment: datetime) -> Iterator[datetime]:
    """Bar start times at or before ``moment``, newest first, inside trading sessions."""
    day = moment.date()
    while True:
        label = datetime.combine(day, _DAILY_LABEL, UTC)
        if is_trading_day(day):
            if frame.minutes >= 10080:
                first = day.weekday() == 0 or not is_trading_day(day - timedelta(days=1))
                if first and label <= moment:
                    yield label
            elif not frame.intraday:
                if label <= moment:  # a day's bar starts at midnight New York (04:00 UTC)
                    yield label
            else:
                opening = datetime.combine(day, SESSION_OPEN, UTC)
                closing = clock.close_on(day)
                step = timedelta(minutes=frame.minutes)
                count = math.ceil((closing - opening) / step)
                for k in range(count - 1, -1, -1):
                    start = opening + k * step
                    if start <= moment:
                        yield start
        day -= timedelta(days=1)


def generate(
    seed: int,
    symbol: str,
    frame: Timeframe,
    clock: MarketClock,
    price: Decimal,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Bar]:
    """The bars that start in [start, end], oldest first, the newest one closing at ``price``."""
    sigma = _SIGMA_PER_MINUTE * math.sqrt(frame.trading_minutes)
    close = float(price)
    chosen: list[Bar] = []
    for count, at in enumerate(_starts_before(frame, clock, now)):
        if at < start or count >= MAX_BARS_BACK:
            break
        rng = random.Random(f"{seed}:{symbol}:{frame.minutes}:{int(at.timestamp())}")
        move = rng.gauss(0.0, sigma)
        opening = close / (1 + move)
        if at <= end:
            high = max(opening, close) * (1 + abs(rng.gauss(0.0, sigma / 2)))
            low = min(opening, close) * (1 - abs(rng.gauss(0.0, sigma / 2)))
            volume = int(rng.uniform(0.5, 1.5) * 2000 * frame.trading_minutes)
            chosen.append(
                Bar(at, _cents(opening), _cents(high), _cents(low), _cents(close), volume,
                    max(1, volume // 90))
            )  # fmt: skip
        close = opening
    chosen.reverse()
    return chosen


def _cents(value: float) -> Decimal:
    return max(CENT, Decimal(repr(value)).quantize(CENT, ROUND_HALF_UP))
