"""Execute a subscription event once for all subscribers that asked the same thing.

Over WebSockets, accountUpdates' later events are run once per group by
fanout.py; what still goes Strawberry's way per subscriber is shared here:
every subscription's first result (the current snapshot, the same object for
all subscribers of an account), activeAccountChanged, and subscriptions run
in-process. graphql-core runs the subscription's selection set for every subscriber and
every event. With 10,000 subscribers of one account that is 10,000 identical
executions per event, about half of the server's fan-out time (the budget in
docs/architecture.md#performance-budget: 250 ms to reach them all). An event
mapped once (`SharedPayload`, see types.py) is the same object for every
subscriber of that account, so its result for one operation (same parsed
document, same variables) is computed once and handed to the others;
Strawberry still encodes and sends it per subscriber, and runs its error
handling per subscriber.

Why sharing is safe: a payload object is only ever yielded to subscriptions of
one account, hence of one owner (the bus routes by owner and account, ISO-03),
and its types read no context (plain data fields only). Results with errors
are never shared, so every subscriber's error handling sees its own.

Each event also gets its own memo of collected subfields. graphql-core builds
an event's executor as a shallow copy of the subscription's, so without this
every event's memo entries (keyed by lists made for that event, which the memo
keeps alive) would pile up on the subscription for as long as it stays open:
about 2 KB per event per subscription, the steady rise `bench/soak.py` showed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SharedPayload:
    """A subscription payload whose execution results may be shared (see module docstring).

    The results live in the instance's own `__dict__` (not a declared field, so
    Strawberry never sees them): they go when the payload goes.
    """

    def shared_results(self) -> dict[tuple[int, str], tuple[Any, Any]]:
        results: dict[tuple[int, str], tuple[Any, Any]] | None = self.__dict__.get(_RESULTS)
        if results is None:
            results = self.__dict__[_RESULTS] = {}
        return results


_RESULTS = "_shared_results"


def _variables_key(values: dict[str, Any]) -> str:
    return repr(sorted(values.items()))


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, memoising per-event execution on shared payloads."""

    def build_per_event_executor(self, payload: Any) -> Executor:
        executor = super().build_per_event_executor(payload)
        # the event's own memo, gone with the event (see the module docstring); the name is
        # graphql-core's internal, pinned by tests/test_internals.py
        executor._relevant_sub_fields = {}
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        # graphql-core executes a subscription event with serially=False; queries and
        # mutations (root value None) never take this path.
        if serially is not False or not isinstance(payload, SharedPayload):
            return super().execute_operation(serially)
        key = (id(self.operation), _variables_key(self.variable_values.coerced))
        cached = payload.shared_results().get(key)
        if cached is not None and cached[0] is self.operation:
            return cached[1]
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = asyncio.ensure_future(result)
            result.add_done_callback(lambda done: _forget_failed(payload, key, done))
        elif getattr(result, "errors", None):
            return result
        payload.shared_results()[key] = (self.operation, result)
        return result


def _forget_failed(payload: SharedPayload, key: tuple[int, str], done: asyncio.Future[Any]) -> None:
    if done.cancelled() or done.exception() is not None or getattr(done.result(), "errors", None):
        payload.shared_results().pop(key, None)
