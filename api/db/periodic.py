"""A round of database work repeated on a timer, for the services' background chores.

The security log's pruning and the order reconciliation each run one round every
so often in every process. A round that fails is logged with its traceback,
except when the database is out of reach: the outage log (api/db/outage.py) says
that once, and the next round simply tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from api.db.outage import is_outage


class Periodic:
    """Runs `round` every `every` seconds between `start()` and `stop()`."""

    def __init__(
        self,
        name: str,
        round: Callable[[], Awaitable[object]],
        every: float,
        log: logging.Logger,
        failure: str,
    ) -> None:
        self._name = name
        self._round = round
        self._every = every
        self._log = log
        self._failure = failure
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except Exception as error:
                if not is_outage(error):
                    self._log.exception(self._failure)
            await asyncio.sleep(self._every)
