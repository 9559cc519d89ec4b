"""Portfolio value over time with profit and loss (HIST-01).

Periods and timeframes are Alpaca's own notation; anything else is
BAD_USER_INPUT naming the argument. Profit and loss are computed here from the
equity and the base value, never taken from the broker's ``profit_loss``
(which has been reported wrong): base value is the broker's (the equity the
period is measured from) or, when it sends none, the first point's equity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from api.broker.market_models import EquityHistory
from api.errors import BadUserInput

# What each period is drawn in unless asked otherwise: a few dozen to a few hundred points.
DEFAULT_TIMEFRAMES = {"1D": "5Min", "1W": "1H", "1M": "1D", "3M": "1D", "6M": "1D", "1A": "1D"}
PERIODS = tuple(DEFAULT_TIMEFRAMES)
TIMEFRAMES = ("1Min", "5Min", "15Min", "1H", "1D")
_RATIO = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class PortfolioPoint:
    at: datetime
    equity: Decimal
    profit_loss: Decimal
    profit_loss_percent: Decimal | None  # a fraction: 0.05 is 5 %


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    period: str
    timeframe: str
    points: tuple[PortfolioPoint, ...]
    base_value: Decimal
    note: str | None = None

    @property
    def profit_loss(self) -> Decimal:
        return self.points[-1].profit_loss if self.points else Decimal(0)

    @property
    def profit_loss_percent(self) -> Decimal | None:
        return self.points[-1].profit_loss_percent if self.points else None


def period_of(raw: str) -> str:
    if raw not in PERIODS:
        raise BadUserInput(f"period must be one of {', '.join(PERIODS)}", field="period")
    return raw


def timeframe_of(raw: str | None, period: str) -> str:
    if raw is None:
        return DEFAULT_TIMEFRAMES[period]
    if raw not in TIMEFRAMES:
        raise BadUserInput(f"timeframe must be one of {', '.join(TIMEFRAMES)}", field="timeframe")
    return raw


def with_profit_and_loss(
    history: EquityHistory, period: str, note: str | None = None
) -> PortfolioHistory:
    points = history.points
    base = history.base_value
    if base is None or base == 0:
        base = points[0].equity if points else Decimal(0)
    return PortfolioHistory(
        period=period,
        timeframe=history.timeframe,
        points=tuple(
            PortfolioPoint(
                at=p.at,
                equity=p.equity,
                profit_loss=p.equity - base,
                profit_loss_percent=((p.equity - base) / base).quantize(_RATIO) if base else None,
            )
            for p in points
        ),
        base_value=base,
        note=note,
    )
