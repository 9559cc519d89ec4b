"""The sandbox's trading calendar: weekdays less the main US market holidays, with half days.

``GET /v2/calendar`` lists these days in New York local time as Alpaca does
(``09:30``-``16:00``, ``13:00`` on a half day), so a client can tell a day that
closes early (HIST-04). The rules are a plain approximation of the NYSE's (fixed
holidays moved off weekends, Thanksgiving, the half days around it, 3 July and
Christmas Eve); the sandbox's own session times are in ``api.sandbox.clock``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

_OPEN = "09:30"
_CLOSE = "16:00"
_EARLY_CLOSE = "13:00"


@dataclass(frozen=True, slots=True)
class TradingDay:
    day: date
    open: str
    close: str
    settlement: date


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=3)


def _holidays(year: int) -> set[date]:
    fixed = (date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 12, 25))
    return {_observed(d) for d in fixed} | {_thanksgiving(year)}


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def is_half_day(day: date) -> bool:
    half = {
        _thanksgiving(day.year) + timedelta(days=1),
        date(day.year, 12, 24),
        date(day.year, 7, 3),
    }
    return day in half and is_trading_day(day)


def trading_days(start: date, end: date, extra_half_days: set[date]) -> Iterator[TradingDay]:
    day = start
    while day <= end:
        if is_trading_day(day):
            early = is_half_day(day) or day in extra_half_days
            yield TradingDay(day, _OPEN, _EARLY_CLOSE if early else _CLOSE, _settlement(day))
        day += timedelta(days=1)


def _settlement(day: date) -> date:
    # T+1, as US equities settle since May 2024.
    settles = day + timedelta(days=1)
    while not is_trading_day(settles):
        settles += timedelta(days=1)
    return settles


def previous_trading_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day
