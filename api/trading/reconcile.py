"""Settling order attempts whose outcome was never recorded (TRADE-05).

Placement writes an ATTEMPTED row before an order leaves and its outcome
after the broker answers (`api.trading.placement`). When the process or the
database dies in between, the row stays ATTEMPTED (or UNKNOWN, when the broker
could not be asked) and a confirmed proposal keeps no order id. Nothing
retries such an order unless the person does, so here, at start-up and then
every `every` seconds, each row untouched for that long is settled from the
broker's record for its client order id: RECOVERED (with the broker's order,
and its proposal, whose id is the client order id, confirmed and linked to it)
when the broker has the order, NOT_PLACED (and a claimed proposal PENDING
again) when it has none. A row whose broker cannot be asked stays as it is
for the next round.

One process of a deployment reconciles at a time (a transaction-level
advisory lock); rows are listed across tenants by a narrow definer function
and each is settled in its owner's tenant scope. A row that changed after it
was listed (the person retried meanwhile) is left to that retry.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from api.accounts import AccountService
from api.broker import BrokerError, BrokerGateway
from api.db import Database
from api.db.periodic import Periodic
from api.trading import audit, proposals
from api.trading.audit import Unfinished

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(class, key): one reconciler in the deployment at a time
_LOCK_CLASS = 0x0DE5
_LOCK_KEY = 1
BATCH = 100


class OrderReconciler:
    """Settles unfinished order attempts of every tenant; one per process, built by `Services`."""

    def __init__(
        self, database: Database, gateway: BrokerGateway, accounts: AccountService, *, every: float
    ) -> None:
        self._database = database
        self._gateway = gateway
        self._accounts = accounts
        self._every = every
        self._periodic = Periodic(
            "order-reconciler", self.reconcile, every, log, "order reconciliation failed"
        )

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def reconcile(self) -> int:
        """One round: settle what can be settled now; returns how many rows were settled."""
        settled = 0
        async with self._database.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(
                "select pg_try_advisory_xact_lock($1, $2)", _LOCK_CLASS, _LOCK_KEY
            ):
                return 0  # another process is at it
            older_than = timedelta(seconds=self._every)
            for row in await audit.unfinished(self._database, older_than, BATCH):
                settled += await self._settle(row)
        if settled:
            log.info("settled %d unfinished order attempt(s) from the broker's record", settled)
        return settled

    async def _settle(self, row: Unfinished) -> bool:
        account = await self._accounts.find(row.owner_id, row.account_id)
        if account is None:
            return False  # removed meanwhile: its rows no longer name it
        try:
            order = await self._gateway.order_by_client_id(account.broker, row.client_order_id)
        except BrokerError as error:
            log.info(
                "order %s on account %s still unsettled: the broker cannot be asked (%s)",
                row.client_order_id,
                row.account_id,
                error.code.value,
            )
            return False
        proposal_id = _proposal_id(row.client_order_id)
        async with self._database.tenant(row.owner_id) as conn:
            if order is not None:
                written = await audit.settle_unfinished(
                    conn,
                    row,
                    "RECOVERED",
                    broker_order_id=order.id,
                    detail="settled later: the broker has the order under its client order id",
                )
            else:
                written = await audit.settle_unfinished(
                    conn,
                    row,
                    "NOT_PLACED",
                    broker_order_id=None,
                    detail="settled later: the broker has no order under this client order id",
                )
            if written and proposal_id is not None:
                await proposals.settle_unfinished(proposal_id, None if order is None else order.id)
        return written


def _proposal_id(client_order_id: str) -> UUID | None:
    """A confirmed proposal's order carries the proposal's id as its client order id."""
    try:
        return UUID(client_order_id)
    except ValueError:
        return None
