"""CPU per authenticated request through /graphql, in-process, against the bare floor.

    python bench/request_profile.py [--requests 3000] [--rounds 4] [--accounts 3]
                                    [--profile [TARGET]]

The app is built as `alpaca-chat serve` builds it (embedded PostgreSQL in a
temporary folder, GRAPHIQL=false) and called directly as an ASGI app, one
request at a time, so the figures are this process's own CPU per request
(time.process_time: PostgreSQL's work is in its own processes) without a
server or a client in the way. Eight targets take alternating turns:
- "no SQL": the PWA's `VapidPublicKey` document, answered from memory, so its
  figure is the pipeline's own cost, against "floor auth": a bare endpoint
  that authenticates the same token and answers the same JSON;
- "trusted": the PWA's `Accounts` document (docs/pwa-operations.json), which
  skips parsing and validation (schema/trusted.py), against "floor pwa":
  bench/graphql_reads.py's bare endpoint answering the same fields (the
  accounts' `halted` one more tenant transaction, there as here);
- "unplanned": the same `Accounts` document on graphql-core's own execution instead
  of its plan (schema/plans.py), against the same floor: what the plans save;
- "ad hoc": bench/graphql_reads.py's `accounts` document, served from the
  parser and validation caches, against "floor": the same bare endpoint with
  that document's fields (same authentication, SQL, tenant transaction and
  JSON, no GraphQL);
- "no view": the same document with no HTTP at all: the body decoded, the token
  authenticated as `/graphql` builds its context, Strawberry's `schema.execute`
  (every extension), the result encoded. Against "floor", it is the
  ceiling of any HTTP view over that pipeline: what "ad hoc" would cost if the
  view, its guards and Starlette's routing were free.
Each prints µs of CPU per request (the median of the rounds) and its excess
over its floor. `--profile` then runs one target ("trusted" unless named) under
cProfile, timed in CPU, and prints the top 25 functions by cumulative and by own
time. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from graphql_reads import FLOOR_PATH, QUERY, floor_route, store_accounts

ROOT = Path(__file__).resolve().parents[1]
AUTH_FLOOR_PATH = "/bench/auth"
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _trusted_query(name: str) -> bytes:
    """The POST body of the PWA's document `name`."""
    operations = json.loads((ROOT / "docs" / "pwa-operations.json").read_text())
    query = next(op["query"] for op in operations if op["operationName"] == name)
    return json.dumps({"query": query}).encode()


def _auth_floor(services: Any) -> Any:
    """A bare endpoint that authenticates the bearer token and answers VapidPublicKey's JSON."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    auth, notify = services.auth, services.notify

    async def floor(request: Request) -> Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        assert await auth.authenticate(token) is not None
        body = json.dumps({"data": {"vapidPublicKey": notify.vapid_public_key}}).encode()
        return Response(body, media_type="application/json")

    return Route(AUTH_FLOOR_PATH, floor, methods=["POST"])


class Caller:
    """One POST as uvicorn would hand it to the app, its answer collected."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def post(self, path: str, body: bytes, token: str | None = None) -> tuple[int, bytes]:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # as a server does: nothing more until disconnect
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class PipelineCaller:
    """What any view must do for a POST, and nothing else: decode, build the context as
    `/graphql` builds it (authentication included), run Strawberry's pipeline, encode
    ("no view")."""

    def __init__(self, app: Any) -> None:
        route = next(r for r in app.routes if getattr(r, "path", None) == "/graphql")
        self.endpoint = route.endpoint

    async def post(self, path: str, body: bytes, token: str | None = None) -> tuple[int, bytes]:
        import orjson
        from starlette.requests import Request

        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        request = Request({"type": "http", "headers": headers, "client": ("127.0.0.1", 50000)})
        context = await self.endpoint.get_context(request, None)
        result = await self.endpoint.schema.execute(
            orjson.loads(body)["query"], context_value=context
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return 200, orjson.dumps(answer)


async def _turn(
    caller: Caller | PipelineCaller, path: str, body: bytes, token: str, requests: int
) -> float:
    """µs of CPU per request over `requests` sequential requests."""
    started = time.process_time()
    for _ in range(requests):
        status, answer = await caller.post(path, body, token)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
    return (time.process_time() - started) / requests * 1e6


@contextlib.contextmanager
def _executor(app: Any, *, unplanned: bool) -> Iterator[None]:
    """Queries on graphql-core's own execution (the planned executor's base) while in it."""
    from schema.realtime.execution import SharedEventExecutor

    route = next(r for r in app.routes if getattr(r, "path", None) == "/graphql")
    schema = route.endpoint.schema
    planned = schema.execution_context_class
    if unplanned:
        schema.execution_context_class = SharedEventExecutor
    try:
        yield
    finally:
        schema.execution_context_class = planned


def _print_profile(profile: cProfile.Profile) -> None:
    for order in ("cumulative", "tottime"):
        print(f"\n--- top 25 by {order} ---")
        stats = pstats.Stats(profile)
        stats.strip_dirs().sort_stats(order).print_stats(25)


async def _run(args: argparse.Namespace, home: str) -> None:
    from api.app import create_app
    from api.config import load_settings
    from api.db import open_database
    from api.logs import configure_logging
    from api.services import Services

    settings = load_settings({"ALPACA_CHAT_HOME": home, "GRAPHIQL": "false"})
    configure_logging(settings, level="WARNING")
    database, server = await open_database(settings)
    await database.connect()
    services = Services.build(settings, database)
    app = create_app(services)
    app.router.routes[:0] = [
        floor_route(services),
        floor_route(services, pwa_fields=True),
        _auth_floor(services),
    ]
    caller = Caller(app)
    pipeline = PipelineCaller(app)

    def caller_of(name: str) -> Caller | PipelineCaller:
        return pipeline if name == "no view" else caller

    try:
        async with app.router.lifespan_context(app):
            signed = json.loads(
                (
                    await caller.post(
                        "/graphql",
                        json.dumps(
                            {
                                "query": 'mutation { signUp(email: "bench@example.com", '
                                'password: "bench-password-1") { token user { id } } }'
                            }
                        ).encode(),
                    )
                )[1]
            )
            token, user = signed["data"]["signUp"]["token"], signed["data"]["signUp"]["user"]["id"]
            await store_accounts(database, services.vault, user, args.accounts)
            targets = {
                "no SQL": ("/graphql", _trusted_query("VapidPublicKey")),
                "floor auth": (AUTH_FLOOR_PATH, b"{}"),
                "trusted": ("/graphql", _trusted_query("Accounts")),
                "unplanned": ("/graphql", _trusted_query("Accounts")),
                "floor pwa": (FLOOR_PATH + "/pwa", b"{}"),
                "ad hoc": ("/graphql", json.dumps({"query": QUERY}).encode()),
                "floor": (FLOOR_PATH, b"{}"),
                "no view": ("", json.dumps({"query": QUERY}).encode()),
            }
            floor_of = {
                "no SQL": "floor auth",
                "trusted": "floor pwa",
                "unplanned": "floor pwa",
                "ad hoc": "floor",
                "no view": "floor",
            }
            for name, (path, body) in targets.items():
                answer = json.loads((await caller_of(name).post(path, body, token))[1])
                assert "errors" not in answer, (name, answer)
                accounts = answer["data"].get("accounts", [None] * args.accounts)
                assert len(accounts) == args.accounts, (name, answer)
                with _executor(app, unplanned=name == "unplanned"):
                    await _turn(caller_of(name), path, body, token, args.requests // 4)  # warm-up
            gc.freeze()  # as `alpaca-chat serve` does once started (api/cli.py)
            figures: dict[str, list[float]] = {name: [] for name in targets}
            names = list(targets)
            for turn in range(args.rounds):
                for name in names if turn % 2 == 0 else reversed(names):
                    path, body = targets[name]
                    with _executor(app, unplanned=name == "unplanned"):
                        cpu = await _turn(caller_of(name), path, body, token, args.requests)
                        figures[name].append(cpu)
            medians = {name: statistics.median(rounds) for name, rounds in figures.items()}
            print(
                f"CPU per request, {args.requests} requests x {args.rounds} rounds, "
                f"{args.accounts} accounts (median of rounds; all rounds in brackets)"
            )
            for name, rounds in figures.items():
                median = medians[name]
                floor = medians[floor_of.get(name, name)]
                print(
                    f"{name:10} {median:7.0f} µs   over its floor {median - floor:+6.0f} µs"
                    f"   x{median / floor:4.2f}   [{' '.join(f'{r:.0f}' for r in rounds)}]"
                )
            if args.profile:
                path, body = targets[args.profile]
                profile = cProfile.Profile(time.process_time)  # CPU, as the figures above
                profile.enable()
                await _turn(caller_of(args.profile), path, body, token, args.requests)
                profile.disable()
                _print_profile(profile)
    finally:
        await database.close()
        if server is not None:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per round and target")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument(
        "--profile", nargs="?", const="trusted", help="cProfile one target (default: trusted)"
    )
    args = parser.parse_args()
    import uvloop

    with tempfile.TemporaryDirectory(prefix="acprofile-") as home:
        uvloop.run(_run(args, home))


if __name__ == "__main__":
    main()
