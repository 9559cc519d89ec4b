"""GraphQL figures for the metrics (api/metrics.py), as one Strawberry extension.

Queries and mutations over HTTP are timed and counted by operation and outcome:
"rejected" when one never reached execution (parse, validation and the guards'
refusals), "error" when its result carries errors, else "ok". Subscriptions are
counted while they run: `on_operation` spans a subscription's whole life (from
the subscribe message until it completes, is stopped or its socket closes), and
by `on_execute` the document is parsed, so the operation type is known.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.metrics import OTHER_OPERATION, SUBSCRIPTIONS_OPEN, observe_graphql, operation_label


class CountsOperations(SchemaExtension):
    _executed = False
    _subscribed = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self._subscribed:
                SUBSCRIPTIONS_OPEN.dec()
            else:
                self._observe(time.perf_counter() - started)

    def on_execute(self) -> Iterator[None]:
        self._executed = True
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            SUBSCRIPTIONS_OPEN.inc()
            self._subscribed = True
        yield

    def _observe(self, seconds: float) -> None:
        context = self.execution_context
        if isinstance(getattr(context.context, "request", None), WebSocket):
            return  # a query or mutation over a WebSocket: not an HTTP request
        if not self._executed:
            observe_graphql(OTHER_OPERATION, "rejected", seconds)
            return
        result = context.result
        outcome = "error" if result is not None and result.errors else "ok"
        observe_graphql(operation_label(context.operation_name), outcome, seconds)
