"""OPS-01: the opt-in metrics port: counters that move with traffic, labels with no user data.

The server runs as a subprocess with `METRICS_PORT`; the scrape is Prometheus' text format
read with prometheus-client's own parser.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import OTHER_OPERATION, OperationNames
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import (
    TLS,
    GraphQLWebSocket,
    RunningServer,
    StartServer,
    free_port,
    signed_up_user,
)
from tests.fixtures.trading import PLACE_ORDER, Trader, broker_env

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(port: int) -> tuple[str, Samples]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5, verify=TLS).text
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _scrape_while_subscribed(server: RunningServer, token: str, port: int) -> Samples:
    async with GraphQLWebSocket.connect(server, token=token) as ws:
        await ws.subscribe("subscription Session { sessionEvents { user { email } } }")
        assert (await ws.receive())["type"] == "next"
        return (await asyncio.to_thread(_scrape, port))[1]


@pytest.fixture
def metrics_port() -> int:
    return free_port()


def test_counters_move_and_labels_hold_no_user_data(
    start_server: StartServer, sandbox: SandboxHandle, known_secrets: set[str], metrics_port: int
) -> None:
    """OPS-01: GraphQL requests (by operation and outcome, with latency), broker calls and
    open subscriptions are counted; no email, key id or key hint appears in a scrape."""
    server = start_server(env={**broker_env(sandbox), "METRICS_PORT": str(metrics_port)})
    _, before = _scrape(metrics_port)
    email = "metrics-person@example.com"
    alice = Trader(server, sandbox, signed_up_user(server, email), known_secrets)
    account = alice.add_account("Main")
    alice.data(
        PLACE_ORDER,
        {"input": {"accountId": account["id"], "symbol": "AAPL", "side": "BUY", "qty": "1"}},
    )
    alice.call("query Broken { nothingHere }")
    subscribed = asyncio.run(_scrape_while_subscribed(server, alice.token, metrics_port))
    text, after = _scrape(metrics_port)

    requests = "alpaca_chat_graphql_requests_total"
    assert _value(after, requests, operation="Place", outcome="ok") == 1
    assert _value(after, requests, operation="Add", outcome="ok") == 1
    assert _value(after, requests, operation=OTHER_OPERATION, outcome="rejected") >= 1
    latency = "alpaca_chat_graphql_request_seconds_count"
    assert _value(after, latency, operation="Place") == 1
    broker = "alpaca_chat_broker_calls_total"
    assert _value(after, broker, outcome="ok") > _value(before, broker, outcome="ok")
    assert _value(subscribed, "alpaca_chat_subscriptions_open") == 1
    assert _value(after, "alpaca_chat_subscriptions_open") == 0

    keys = alice.keys[account["id"]]
    for private in (email, "metrics-person", keys["api_key_id"], account["keyHint"]):
        assert private not in text


def test_metrics_are_off_unless_asked_for(server: RunningServer, metrics_port: int) -> None:
    """OPS-01: without METRICS_PORT nothing listens for scrapes, and /metrics is not
    part of the public port."""
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2, verify=TLS)
    assert "alpaca_chat_" not in httpx.get(server.url + "/metrics", timeout=5, verify=TLS).text


def test_operation_names_are_bounded() -> None:
    """OPS-01: a client-chosen operation name is a label only if it looks like a name,
    and only so many distinct names are kept."""
    names = OperationNames(limit=2)
    assert names.label("x" * 65) == OTHER_OPERATION
    assert names.label("alice@example.com") == OTHER_OPERATION
    assert names.label(None) == "anonymous"
    assert [names.label(n) for n in ("One", "Two", "Three", "One")] == [
        "One",
        "Two",
        OTHER_OPERATION,
        "One",
    ]
