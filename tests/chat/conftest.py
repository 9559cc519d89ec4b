"""One server per test module for the chat over GraphQL; a fresh user (or two) per test.

Starting a server on a fresh database costs about a second, and chat tests
need many users rather than many databases: each test signs up its own users,
which row-level security keeps apart as it keeps real tenants apart. The
model-backed server talks litellm over HTTP to the session's scripted
OpenAI-compatible server; the offline one runs the built-in interpreter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fixtures.llm import TEST_API_KEY, TEST_MODEL, ScriptedLLM
from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer, launch_server, signed_up_user
from tests.fixtures.trading import Trader, broker_env

_emails = itertools.count(1)

MakeTrader = Callable[[], Trader]


def _module_server(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]
) -> Iterator[RunningServer]:
    database_url = pg_cluster.create_database()
    server = launch_server(database_url, tmp_path_factory.mktemp("chat-home"), env)
    try:
        yield server
    finally:
        server.stop()
        pg_cluster.drop_database(database_url)


@pytest.fixture(scope="module")
def model_server(
    pg_cluster: Cluster,
    tmp_path_factory: pytest.TempPathFactory,
    sandbox: SandboxHandle,
    _scripted_llm_server: ScriptedLLM,
) -> Iterator[RunningServer]:
    """A server whose chat is litellm with LLM_MODEL, LLM_API_BASE = the scripted server."""
    env = {
        **broker_env(sandbox),
        "LLM_MODEL": TEST_MODEL,
        "LLM_API_BASE": _scripted_llm_server.base_url,
        "OPENAI_API_KEY": TEST_API_KEY,
    }
    yield from _module_server(pg_cluster, tmp_path_factory, env)


@pytest.fixture(scope="module")
def offline_server(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxHandle
) -> Iterator[RunningServer]:
    """A server without LLM_MODEL: the built-in command interpreter answers (CHAT-02)."""
    yield from _module_server(pg_cluster, tmp_path_factory, broker_env(sandbox))


def _trader_factory(
    server: RunningServer, sandbox: SandboxHandle, known_secrets: set[str]
) -> MakeTrader:
    def make() -> Trader:
        email = f"chat-{next(_emails)}@example.com"
        return Trader(server, sandbox, signed_up_user(server, email), known_secrets)

    return make


@pytest.fixture
def model_trader(
    model_server: RunningServer, sandbox: SandboxHandle, known_secrets: set[str]
) -> MakeTrader:
    return _trader_factory(model_server, sandbox, known_secrets)


@pytest.fixture
def offline_trader(
    offline_server: RunningServer, sandbox: SandboxHandle, known_secrets: set[str]
) -> MakeTrader:
    return _trader_factory(offline_server, sandbox, known_secrets)


PROPOSAL_FIELDS = """id accountId symbol side type timeInForce qty notional limitPrice stopPrice
  summary estimatedCost environment expiresAt status orderId"""
ORDER_FIELDS = """id clientOrderId symbol side type timeInForce qty notional filledQty
  filledAvgPrice limitPrice stopPrice status submittedAt filledAt canceledAt createdAt
  extendedHours"""
MESSAGE_FIELDS = f"""id accountId role text createdAt
  toolCalls {{ name arguments result ignoredArguments }}
  proposals {{ {PROPOSAL_FIELDS} }}
  orders {{ {ORDER_FIELDS} }}"""
SEND = f"""mutation Send($text: String!, $accountId: UUID) {{
  sendChatMessage(text: $text, accountId: $accountId) {{
    userMessage {{ {MESSAGE_FIELDS} }}
    reply {{ {MESSAGE_FIELDS} }}
  }}
}}"""
HISTORY = f"""query History($accountId: UUID, $limit: Int! = 50) {{
  chatHistory(accountId: $accountId, limit: $limit) {{ {MESSAGE_FIELDS} }}
}}"""
CONFIRM = f"mutation($p: UUID!) {{ confirmOrder(proposalId: $p) {{ {ORDER_FIELDS} }} }}"
DISMISS = "mutation($p: UUID!) { dismissProposal(proposalId: $p) }"
ORDERS = f"""query($a: UUID) {{ orders(accountId: $a, status: ALL) {{ {ORDER_FIELDS} }} }}"""
AUTO_EXECUTE = """mutation($id: UUID!, $on: Boolean!) {
  setChatAutoExecute(id: $id, enabled: $on) { id chatAutoExecute } }"""


def send(trader: Trader, text: str, account_id: str | None = None) -> dict[str, Any]:
    """sendChatMessage's ChatTurn; the call must succeed."""
    return trader.data(SEND, {"text": text, "accountId": account_id})["sendChatMessage"]


def history(trader: Trader, account_id: str | None = None) -> list[dict[str, Any]]:
    return trader.data(HISTORY, {"accountId": account_id})["chatHistory"]


def orders_received(sandbox: SandboxHandle, account_number: str) -> int:
    return int(sandbox.stats().get(account_number, {}).get("orders_received", 0))
