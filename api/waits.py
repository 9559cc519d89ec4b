"""Waiting for an event at most so long, in a way that a cancellation always ends.

On Python 3.11, `asyncio.wait_for` loses a cancellation that arrives while the
awaited event is being set: it returns normally instead (CPython issue gh-86296,
fixed in 3.12 by building it on `asyncio.timeout`). A `while True` loop around it
then carries on after its task was cancelled, and a shutdown that awaits the
task waits for ever. `asyncio.timeout` keeps the cancellation, so every
"this event, or the interval" wait of the background loops goes through here.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_at_most(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
