"""Account activities (HIST-02): every fill of the account's own orders, and dividends.

A fill or partial fill becomes a ``FILL`` activity the moment the order desk
announces it. Dividends (``DIV``) come now and then for held long positions in
the symbols that pay one: at each change of the sandbox's UTC date a paying
symbol goes ex-dividend about once every three weeks, and the control endpoint
pays one on demand so tests need not wait. ``page`` lists them as
``GET /v2/account/activities`` does: newest first unless asked otherwise,
``page_size`` at most 100, ``page_token`` the id of the last item already seen.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.clock import now
from api.sandbox.errors import not_found, unprocessable
from api.sandbox.prices import CENT
from api.sandbox.records import SandboxAccount, SandboxActivity, TradeEvent

KINDS = frozenset({"FILL", "DIV"})
MAX_PAGE_SIZE = 100
# Quarterly dividend per share of the paying symbols, roughly their real ones.
DIVIDENDS = {
    "AAPL": Decimal("0.25"),
    "MSFT": Decimal("0.83"),
    "KO": Decimal("0.485"),
    "PEP": Decimal("1.355"),
    "JPM": Decimal("1.25"),
    "XOM": Decimal("0.99"),
    "PFE": Decimal("0.42"),
    "WMT": Decimal("0.2075"),
    "V": Decimal("0.59"),
    "COST": Decimal("1.16"),
    "SPY": Decimal("1.75"),
}
_EX_DATE_CYCLE_DAYS = 21


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    kinds: frozenset[str]
    direction: str = "desc"
    page_size: int = MAX_PAGE_SIZE
    page_token: str | None = None
    after: datetime | None = None
    until: datetime | None = None


def activity_id(at: datetime) -> str:
    return f"{at:%Y%m%d%H%M%S}{at.microsecond // 1000:03d}::{uuid.uuid4()}"


def record_fill(event: TradeEvent) -> None:
    """Listener of the order desk: a fill or partial fill becomes a FILL activity."""
    if event.event not in {"fill", "partial_fill"} or event.qty is None or event.price is None:
        return
    order = event.order
    side = order.terms.side
    value = (event.qty * event.price).quantize(CENT, ROUND_HALF_UP)
    leaves = (order.terms.qty - order.filled_qty) if order.terms.qty is not None else Decimal(0)
    event.account.activities.append(
        SandboxActivity(
            id=activity_id(event.timestamp),
            kind="FILL",
            at=event.timestamp,
            symbol=order.symbol,
            qty=event.qty,
            price=event.price,
            net_amount=-value if side == "buy" else value,
            side=side,
            order_id=order.id,
            cum_qty=order.filled_qty,
            leaves_qty=leaves,
            order_status=order.status,
        )
    )


def pay_dividend(account: SandboxAccount, symbol: str, per_share: Decimal) -> SandboxActivity:
    """Credit a dividend on the account's long position in ``symbol`` (a DIV activity)."""
    position = account.positions.get(symbol)
    if position is None or position.qty <= 0:
        raise not_found(f"no long position in {symbol}")
    amount = (position.qty * per_share).quantize(CENT, ROUND_HALF_UP)
    moment = now()
    activity = SandboxActivity(
        id=activity_id(moment),
        kind="DIV",
        at=moment,
        symbol=symbol,
        qty=position.qty,
        price=per_share,
        net_amount=amount,
    )
    account.cash += amount
    account.activities.append(activity)
    return activity


def pay_ex_dividends(account: SandboxAccount, day: date) -> None:
    """The dividends of the paying symbols that go ex-dividend on ``day``."""
    for symbol, per_share in DIVIDENDS.items():
        position = account.positions.get(symbol)
        ex_day = zlib.crc32(symbol.encode()) % _EX_DATE_CYCLE_DAYS
        if (
            position is not None
            and position.qty > 0
            and day.toordinal() % _EX_DATE_CYCLE_DAYS == ex_day
        ):
            pay_dividend(account, symbol, per_share)


def page(account: SandboxAccount, flt: ActivityFilter) -> list[SandboxActivity]:
    ordered = sorted(account.activities, key=lambda a: a.id, reverse=flt.direction == "desc")
    chosen = [
        a
        for a in ordered
        if a.kind in flt.kinds
        and (flt.after is None or a.at > flt.after)
        and (flt.until is None or a.at < flt.until)
    ]
    if flt.page_token is not None:
        ids = [a.id for a in chosen]
        if flt.page_token not in ids:
            raise unprocessable("invalid page_token")
        chosen = chosen[ids.index(flt.page_token) + 1 :]
    return chosen[: flt.page_size]
