"""A long-lived subscription keeps nothing per event (RT-01; schema/realtime/execution.py).

A phone keeps `accountUpdates` open for hours and every order brings it a few
events. graphql-core builds each event's executor as a copy of the
subscription's, sharing its memo of collected subfields, so every event's
entries stayed on the subscription until it closed: about 2 KB per event. Here
a subscription of the schema's own executor gets thousands of events with
nested objects and lists (an order and its legs, as order events carry); what
the process holds must not grow with their number.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import ExecutionResult

from schema.realtime.execution import SharedEventExecutor

WARM_UP_EVENTS = 200
MEASURED_EVENTS = 2000
# without the per-event memo the measured events leave several MB behind
MAX_GROWTH_BYTES = 128 * 1024


@strawberry.type
class _Leg:
    id: str


@strawberry.type
class _Order:
    id: str
    legs: list[_Leg]


@strawberry.type
class _OrderEvent:
    event: str
    order: _Order


@strawberry.type
class _Query:
    ping: str = "pong"


@strawberry.type
class _Subscription:
    @strawberry.subscription
    async def order_events(self) -> AsyncGenerator[_OrderEvent, None]:
        for number in range(WARM_UP_EVENTS + MEASURED_EVENTS):
            order = _Order(id=f"order-{number}", legs=[_Leg(id=f"leg-{number}")])
            yield _OrderEvent(event="fill", order=order)


def _held_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_rt01_a_subscription_holds_no_memory_per_event() -> None:
    schema = strawberry.Schema(
        query=_Query, subscription=_Subscription, execution_context_class=SharedEventExecutor
    )
    results = await schema.subscribe(
        "subscription { orderEvents { event order { id legs { id } } } }"
    )
    assert not isinstance(results, ExecutionResult), results.errors
    tracemalloc.start()
    try:
        received = 0
        async for result in results:
            assert result.errors is None, result.errors
            received += 1
            if received == WARM_UP_EVENTS:
                before = _held_bytes()
            if received == WARM_UP_EVENTS + MEASURED_EVENTS:
                growth = _held_bytes() - before
    finally:
        tracemalloc.stop()
    assert received == WARM_UP_EVENTS + MEASURED_EVENTS
    assert growth < MAX_GROWTH_BYTES, f"{growth} bytes held after {MEASURED_EVENTS} events"
