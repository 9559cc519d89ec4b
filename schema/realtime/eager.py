"""Run a coroutine at once, up to its first wait: the way one task writes to many sockets.

A WebSocket send finishes without waiting while the socket's transport takes
more data, and waits only once that socket is slow (its buffer is full, or
its client stopped reading). The fan-out (fanout.py) writes an event to every
socket of a group from one task: it starts each send here, and a send that
has to wait is handed back, unfinished, to be finished by that socket's own
task, so one slow socket never holds up the others.

This is plain coroutine protocol (`send`, `throw`, `close` and delegating
`await`), what `asyncio.Task` itself does with a coroutine at each step.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any


def run_until_suspended(coroutine: Coroutine[Any, Any, None]) -> Unfinished | None:
    """Run `coroutine` until it finishes (None) or first waits (the rest of it).

    What the coroutine raises before its first wait is raised here.
    """
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return Unfinished(coroutine, waiting_on)


class Unfinished:
    """The rest of a started coroutine: await it once, or `close()` it."""

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coroutine = coroutine
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        # the awaiting task waits on what the coroutine waits on, and resumes it with
        # what that gives, exactly as if it had awaited the coroutine from the start
        waiting_on = self._waiting_on
        while True:
            try:
                given = yield waiting_on
            except BaseException as error:
                try:
                    waiting_on = self._coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = self._coroutine.send(given)
                except StopIteration:
                    return

    def close(self) -> None:
        """Abandon the rest (its `finally` blocks run now)."""
        self._coroutine.close()
