"""Abuse limits on documents, and errors that always carry a code and never a trace."""

from __future__ import annotations

import httpx

from tests.fixtures.server import RunningServer, errors_of, signed_up_user, unique_email


def test_deep_and_wide_documents_are_refused_and_the_server_keeps_serving(
    server: RunningServer,
) -> None:
    token = signed_up_user(server, unique_email("a"))
    # 20 levels deep: refused for its depth before anything runs
    deep = "{ me " + "{ user " * 19 + "{ id }" + "}" * 19 + " }"
    response = server.gql(deep, token=token)
    assert set(errors_of(response)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "exceeds maximum operation depth of 12" in response["errors"][0]["message"]

    # 31 aliases: over the alias limit, under the field limit (schema/cost.py)
    aliases = "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(31)) + " }"
    response = server.gql(aliases, token=token)
    assert errors_of(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in response["errors"][0]["message"].lower()

    many_tokens = "{ " + " ".join("__typename" for _ in range(2100)) + " }"
    assert errors_of(server.gql(many_tokens)) == ["GRAPHQL_PARSE_FAILED"]

    assert server.gql("{ me { id } }", token=token)["data"]["me"]["id"]


def test_every_error_has_a_code_and_no_trace(server: RunningServer) -> None:
    token = signed_up_user(server, unique_email("a"))
    documents = [
        ("{ me { id } ", None),
        ("{ nope }", None),
        ("query($x: Int!) { me { id } }", None),
        ("mutation { createInvite { code } }", None),
        ("mutation { signIn(email: 1, password: 2) { token } }", None),
        ('mutation { signIn(email: "x@example.com", password: "wrong password") { token } }', None),
        ('mutation { signUp(email: "b@example.com", password: "long enough pw") { token } }', None),
        ("subscription { sessionEvents { user { id } } }", token),
    ]
    for query, auth in documents:
        response = httpx.post(
            server.graphql_url,
            json={"query": query},
            headers={"authorization": f"Bearer {auth}"} if auth else {},
        )
        text = response.text
        assert "Traceback" not in text and 'File "' not in text, text
        for error in response.json().get("errors", []) if response.status_code == 200 else []:
            assert error["extensions"]["code"], error
    for raw in (b"{not json", b'{"query": 5}', b"[]"):
        response = httpx.post(
            server.graphql_url, content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert "Traceback" not in response.text
