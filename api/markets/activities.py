"""The account's activity feed, newest first (HIST-02): fills, dividends, fees, transfers.

The broker serves at most 100 activities a page; ``newest`` follows its
``page_token`` (the id of the last activity seen) until it has ``limit`` of
them or the broker has no more.
"""

from __future__ import annotations

from api.broker import BrokerGateway
from api.broker.market import MAX_ACTIVITY_PAGE
from api.broker.market_models import BrokerActivity
from api.broker.models import AccountRef


async def newest(gateway: BrokerGateway, ref: AccountRef, limit: int) -> list[BrokerActivity]:
    found: list[BrokerActivity] = []
    token: str | None = None
    while len(found) < limit:
        size = min(MAX_ACTIVITY_PAGE, limit - len(found))
        page = await gateway.market.activities(ref, size, token)
        found.extend(page)
        if len(page) < size:
            break
        token = page[-1].id
    return found
