"""Counts the GraphQL subscriptions that are running, for the metrics (api/metrics.py).

A Strawberry extension: `on_operation` spans a subscription's whole life (from
the subscribe message until it completes, is stopped or its socket closes),
and by `on_execute` the document is parsed, so the operation type is known.
Queries and mutations are counted per request by the endpoint instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.metrics import SUBSCRIPTIONS_OPEN


class CountsSubscriptions(SchemaExtension):
    _counted = False

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            if self._counted:
                SUBSCRIPTIONS_OPEN.dec()

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            SUBSCRIPTIONS_OPEN.inc()
            self._counted = True
        yield
