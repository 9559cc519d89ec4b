"""GraphQL figures for the metrics (api/metrics.py), taken by the request pipeline.

Queries and mutations over HTTP are timed and counted by operation and outcome:
"rejected" when one never reached execution (parse, validation and the guards'
refusals), "error" when its result carries errors, else "ok". Subscriptions are
counted while they run: the pipeline's operation hook spans a subscription's
whole life (from the subscribe message until it completes, is stopped or its
socket closes), and it is counted from the moment its document passed validation,
after which Strawberry executes it (schema/pipeline.py).
"""

from __future__ import annotations

from starlette.websockets import WebSocket
from strawberry.types import ExecutionContext

from api.metrics import OTHER_OPERATION, SUBSCRIPTIONS_OPEN, observe_graphql, operation_label


def subscription_started() -> None:
    SUBSCRIPTIONS_OPEN.inc()


def subscription_ended() -> None:
    SUBSCRIPTIONS_OPEN.dec()


def operation_answered(context: ExecutionContext, seconds: float, *, executed: bool) -> None:
    """A query or mutation ended after `seconds`; counted when it came over HTTP."""
    if isinstance(getattr(context.context, "request", None), WebSocket):
        return  # a query or mutation over a WebSocket: not an HTTP request
    if not executed:
        observe_graphql(OTHER_OPERATION, "rejected", seconds)
        return
    result = context.result
    outcome = "error" if result is not None and result.errors else "ok"
    observe_graphql(operation_label(context.operation_name), outcome, seconds)
