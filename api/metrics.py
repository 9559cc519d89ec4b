"""What a running server counts, for Prometheus, on a port of its own (OPS-01, OPS-02).

The metrics are process-wide (Prometheus' default registry) and served only
when the operator asks for them (`METRICS_PORT` or `--metrics-port`), bound to
127.0.0.1 unless told otherwise: nothing about the server's traffic is public
by default, and `/graphql`'s port never answers a scrape.

Labels never carry user data: no email, id, key hint or symbol. An operation
name is the one client-chosen label, so it is kept only when it looks like a
GraphQL name of modest length, and only the first `MAX_OPERATION_NAMES`
distinct names are kept at all; every other request counts as "other".

This is the lowest layer beside api/logs.py: any module may count here,
and this module imports nothing of the product.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

MAX_OPERATION_NAMES = 100
OTHER_OPERATION = "other"
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

GRAPHQL_REQUESTS = Counter(
    "alpaca_chat_graphql_requests",
    "GraphQL queries and mutations over HTTP, by operation name and outcome "
    "(ok, error: the result carries errors, rejected: not a valid query or mutation)",
    ["operation", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "alpaca_chat_graphql_request_seconds",
    "Time to answer a GraphQL query or mutation over HTTP, by operation name",
    ["operation"],
)
SUBSCRIPTIONS_OPEN = Gauge(
    "alpaca_chat_subscriptions_open", "GraphQL subscriptions running in this process"
)
BROKER_CALLS = Counter(
    "alpaca_chat_broker_calls",
    "HTTP calls to the broker, by outcome (ok, rejected, rate_limited, unavailable, no_answer)",
    ["outcome"],
)
STREAMS_OWNED = Gauge(
    "alpaca_chat_trade_streams_owned",
    "Accounts whose broker trade-update stream this process owns (runs)",
)
PUSH_DELIVERIES = Counter(
    "alpaca_chat_push_deliveries",
    "Web Push notifications by outcome (sent, gone: the device unsubscribed, failed: given "
    "up after retries or refused, dropped: never claimed)",
    ["outcome"],
)


class OperationNames:
    """Operation names as labels: at most `limit` distinct ones, each a GraphQL-like name."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept: set[str] = set()

    def label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if name in self._kept:
            return name
        if len(self._kept) >= self._limit or not _OPERATION_NAME.fullmatch(name):
            return OTHER_OPERATION
        self._kept.add(name)
        return name


_operation_names = OperationNames(MAX_OPERATION_NAMES)


def operation_label(name: str | None) -> str:
    """The label for a GraphQL operation name: the name itself, "anonymous" or "other"."""
    return _operation_names.label(name)


# The labelled series of each (operation, outcome), looked up once: `labels()` checks and
# locks on every call, which weighs on every request. Bounded as the labels are.
_graphql_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def observe_graphql(operation: str, outcome: str, seconds: float) -> None:
    """One answered request; `operation` is a label (`operation_label`, `OTHER_OPERATION`)."""
    series = _graphql_series.get((operation, outcome))
    if series is None:
        series = _graphql_series[(operation, outcome)] = (
            GRAPHQL_REQUESTS.labels(operation=operation, outcome=outcome),
            GRAPHQL_SECONDS.labels(operation=operation),
        )
    requests, latency = series
    requests.inc()
    latency.observe(seconds)


def count_push(outcome: str) -> None:
    """One notification to one device: sent, gone, failed or dropped (PUSH-02)."""
    PUSH_DELIVERIES.labels(outcome=outcome).inc()


def count_broker_call(status: int | None) -> None:
    """One broker call that got HTTP `status`, or no answer at all (None)."""
    if status is None:
        outcome = "no_answer"
    elif 200 <= status < 300:
        outcome = "ok"
    elif status == 429:
        outcome = "rate_limited"
    elif 400 <= status < 500:
        outcome = "rejected"
    else:
        outcome = "unavailable"
    BROKER_CALLS.labels(outcome=outcome).inc()


def serve_metrics(host: str, port: int) -> Callable[[], None]:
    """Serve /metrics on `host:port` from a thread of its own; returns how to stop it.

    A thread, not the event loop: a scrape still answers while the loop is busy,
    which is when the numbers matter most.
    """
    server, thread = start_http_server(port, addr=host)
    log.info("metrics on http://%s:%d/metrics", host, server.server_port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
