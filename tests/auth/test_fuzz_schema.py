"""Generated documents against the whole schema, signed in, through HTTP: no answer is a 5xx
and none is an INTERNAL_SERVER_ERROR (CRED-03: no trace ever reaches a client; ISO-01: the
fuzzing user has an account of its own on the sandbox, so ids hit real rows too).

hypothesis-graphql writes valid documents (every root field but signOut, which would
end the session under test) and documents with one schema violation, with values of every
shape, NUL and other control characters included. Bounded to about `BUDGET_SECONDS`: 10 s in
the suite; set FUZZ_SECONDS for a longer run (`FUZZ_SECONDS=600 pytest tests/auth/`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import StringValueNode
from graphql import build_schema as parse_sdl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from schema import build_schema
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import TLS, RunningServer, StartServer, signed_up_user, unique_email
from tests.fixtures.trading import ADD_ACCOUNT, broker_env

BUDGET_SECONDS = float(os.environ.get("FUZZ_SECONDS", "5"))
# However slow the machine, at least this many are sent before the deadline ends the run.
MIN_DOCUMENTS = 51
# Examples past the deadline are still generated (then skipped): about what fits the budget.
EXAMPLES = max(int(BUDGET_SECONDS * 40), MIN_DOCUMENTS)
UNFUZZED = {"signOut"}


def _string(values: st.SearchStrategy[Any]) -> st.SearchStrategy[StringValueNode]:
    return values.map(lambda value: StringValueNode(value=str(value)))


@pytest.fixture
def fuzzed(
    start_server: StartServer, sandbox: SandboxHandle
) -> Iterator[tuple[RunningServer, str, str]]:
    server = start_server(env=broker_env(sandbox))
    token = signed_up_user(server, unique_email("fuzz"))
    keys = sandbox.mint_account("paper")
    account_input = {
        "nickname": "Fuzzed",
        "environment": "PAPER",
        "apiKeyId": keys["api_key_id"],
        "secretKey": keys["secret_key"],
    }
    added = server.gql(ADD_ACCOUNT, {"input": account_input}, token=token)
    assert "errors" not in added, added
    yield server, token, added["data"]["addAccount"]["id"]


def test_generated_documents_never_fail_internally_CRED_03(
    fuzzed: tuple[RunningServer, str, str],
) -> None:
    server, token, account_id = fuzzed
    sdl = build_schema().as_str()
    roots = parse_sdl(sdl)
    fields = [
        name
        for root in (roots.query_type, roots.mutation_type)
        if root is not None
        for name in root.fields
        if name not in UNFUZZED
    ]
    uuids = st.sampled_from([account_id]) | st.uuids()
    valid = {
        "UUID": _string(uuids),
        "Decimal": _string(st.decimals(allow_nan=False, allow_infinity=False, places=4)),
        "DateTime": _string(st.datetimes().map(lambda at: at.isoformat())),
        "JSON": _string(st.text(max_size=40)),
    }
    anything = {name: strategy | _string(st.text(max_size=40)) for name, strategy in valid.items()}
    documents: st.SearchStrategy[Any] = st.one_of(
        [
            from_schema(sdl, fields=fields, custom_scalars=valid, mode=Mode.POSITIVE),
            from_schema(sdl, fields=fields, custom_scalars=anything, mode=Mode.NEGATIVE),
        ]
    )
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    deadline = time.monotonic() + BUDGET_SECONDS
    runs: list[str] = []
    answers: dict[int, int] = {}
    outcomes: dict[str | None, int] = {}

    with httpx.Client(timeout=30, verify=TLS, headers=headers) as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(document=documents)
        def check(document: str) -> None:
            if time.monotonic() > deadline and len(runs) >= MIN_DOCUMENTS:
                return
            response = client.post(server.graphql_url, json={"query": document})
            runs.append(document)
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
            assert response.status_code < 500, (document, response.text)
            codes = [
                (error.get("extensions") or {}).get("code")
                for error in response.json().get("errors") or []
            ]
            assert "INTERNAL_SERVER_ERROR" not in codes, (document, response.text)
            for code in codes or ["ok"]:
                outcomes[code] = outcomes.get(code, 0) + 1

        check()
    # the figures, in the test log
    print(f"fuzzed /graphql with {len(runs)} documents: HTTP {answers}, codes {outcomes}")
    assert len(runs) >= MIN_DOCUMENTS
