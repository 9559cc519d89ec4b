"""An account's equity over time and the portfolio history Alpaca builds from it (HIST-01).

The sandbox samples every account's equity once a minute (from the price
ticker) and at every fill, which is cheap and enough for Alpaca's smallest
timeframe. ``portfolio_history`` answers ``GET /v2/account/portfolio/history``
the way Alpaca does: left-labelled buckets of the timeframe over the period,
each holding the equity at the end of its window, profit and loss from the
equity before the window (``base_value``). ``1D`` means the trading day of the
window's end (UTC date), as Alpaca's intraday history is the day's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.clock import now
from api.sandbox.errors import unprocessable
from api.sandbox.prices import CENT
from api.sandbox.records import EquitySample, SandboxAccount
from api.sandbox.valuation import Valuation

SAMPLE_EVERY = timedelta(minutes=1)
TIMEFRAMES = {
    "1Min": timedelta(minutes=1),
    "5Min": timedelta(minutes=5),
    "15Min": timedelta(minutes=15),
    "1H": timedelta(hours=1),
    "1D": timedelta(days=1),
}
_PERIOD = re.compile(r"^([1-9][0-9]{0,2})([DWMA])$")
_PERIOD_DAYS = {"D": 1, "W": 7, "M": 30, "A": 365}
_RATIO = Decimal("0.00000001")


class EquityRecorder:
    """Keeps the samples; ``sample`` is called by the ticker, ``on_fill`` at every fill."""

    def __init__(self, valuation: Valuation) -> None:
        self._valuation = valuation

    def sample(self, account: SandboxAccount, *, force: bool = False) -> None:
        moment = now()
        samples = account.equity_samples
        if not force and samples and moment - samples[-1].at < SAMPLE_EVERY:
            return
        samples.append(EquitySample(moment, self._valuation.equity(account)))

    def current(self, account: SandboxAccount) -> EquitySample:
        return EquitySample(now(), self._valuation.equity(account))


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    start: datetime
    end: datetime
    timeframe: str
    step: timedelta


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    timestamps: list[int]
    equity: list[Decimal]
    base_value: Decimal
    timeframe: str

    def profit_loss(self) -> list[Decimal]:
        return [e - self.base_value for e in self.equity]

    def profit_loss_pct(self) -> list[Decimal]:
        if self.base_value == 0:
            return [Decimal(0) for _ in self.equity]
        return [((e - self.base_value) / self.base_value).quantize(_RATIO) for e in self.equity]


def parse_request(
    period: str | None, timeframe: str | None, date_end: str | None, end: str | None
) -> HistoryRequest:
    """Alpaca's query parameters; an unknown period or timeframe is a 422 as on Alpaca."""
    raw_period = period or "1M"
    match = _PERIOD.match(raw_period)
    if match is None:
        raise unprocessable(f"invalid period: {raw_period}")
    days = int(match.group(1)) * _PERIOD_DAYS[match.group(2)]
    frame = timeframe or ("15Min" if days < 7 else "1D")
    if frame not in TIMEFRAMES:
        raise unprocessable(f"invalid timeframe: {frame}")
    window_end = _end(date_end, end)
    if raw_period == "1D":
        start = datetime.combine(window_end.date(), time(0), UTC)
    else:
        start = window_end - timedelta(days=days)
    return HistoryRequest(start, window_end, frame, TIMEFRAMES[frame])


def _end(date_end: str | None, end: str | None) -> datetime:
    moment = now()
    try:
        if end:
            parsed = datetime.fromisoformat(end.replace("Z", "+00:00").replace(" ", "+"))
            if parsed.tzinfo is None:
                raise ValueError("no time zone")
            return min(parsed, moment)
        if date_end:
            day = date.fromisoformat(date_end)
            return min(datetime.combine(day, time(23, 59, 59), UTC), moment)
    except ValueError:
        raise unprocessable("invalid end or date_end") from None
    return moment


def portfolio_history(
    recorder: EquityRecorder, account: SandboxAccount, request: HistoryRequest
) -> PortfolioHistory:
    samples = list(account.equity_samples)
    if request.end >= now() - SAMPLE_EVERY:
        samples.append(recorder.current(account))
    before = [s for s in samples if s.at < request.start]
    base: Decimal | None = before[-1].equity if before else None
    timestamps: list[int] = []
    equity: list[Decimal] = []
    index = 0
    last: Decimal | None = base
    for bucket in _buckets(request):
        bucket_end = bucket + request.step
        # Each bucket holds the equity at the end of its window, carried over quiet windows.
        while index < len(samples) and samples[index].at < bucket_end:
            if samples[index].at >= request.start:
                last = samples[index].equity
            index += 1
        if last is None:  # before the account existed
            continue
        timestamps.append(int(bucket.timestamp()))
        equity.append(last.quantize(CENT, ROUND_HALF_UP))
    if base is None:
        base = equity[0] if equity else Decimal(0)
    return PortfolioHistory(
        timestamps, equity, base.quantize(CENT, ROUND_HALF_UP), request.timeframe
    )


def _buckets(request: HistoryRequest) -> Iterator[datetime]:
    step = int(request.step.total_seconds())
    first = int(request.start.timestamp()) // step * step
    moment = first
    last = int(request.end.timestamp())
    while moment <= last:
        yield datetime.fromtimestamp(moment, UTC)
        moment += step
