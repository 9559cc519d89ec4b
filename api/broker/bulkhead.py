"""Bulkheads between accounts: how many broker calls one account, and one person, may have open.

Every tenant shares the gateway's worker threads. Without a bound, one account
whose broker answers slowly fills them all and every other person's calls queue
behind it (ISO-01 in spirit: one tenant must not take another's service). So a
call first takes a slot of its account and then one of its owner; a call that
cannot get both within its deadline is never sent. The wait counts against the
call's own timeout: the caller gets an answer within the timeout it was promised.

Gates exist only while some call holds or waits for them, so the maps stay as
small as the number of accounts with calls in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Gate:
    semaphore: asyncio.Semaphore
    users: int = 0


@dataclass
class _Gates:
    limit: int
    gates: dict[Hashable, _Gate] = field(default_factory=dict)

    @asynccontextmanager
    async def entered(self, key: Hashable) -> AsyncIterator[None]:
        gate = self.gates.get(key)
        if gate is None:
            gate = self.gates[key] = _Gate(asyncio.Semaphore(self.limit))
        gate.users += 1
        try:
            async with gate.semaphore:
                yield
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self.gates[key]


class Bulkhead:
    """At most ``per_account`` calls in flight per account and ``per_owner`` per person."""

    def __init__(self, *, per_account: int, per_owner: int) -> None:
        self._accounts = _Gates(per_account)
        self._owners = _Gates(per_owner)

    @asynccontextmanager
    async def slot(self, account: Hashable, owner: Hashable) -> AsyncIterator[None]:
        """Hold a slot of ``account`` and of ``owner``; wrap in a timeout to bound the wait.

        The account's slot comes first, so calls waiting on one busy account never
        hold slots their owner's other accounts could use.
        """
        async with self._accounts.entered(account), self._owners.entered(owner):
            yield

    @property
    def accounts_in_flight(self) -> int:
        return len(self._accounts.gates)
