"""The `accounts` query through /graphql against the floor of our stack.

    python bench/graphql_reads.py [--clients 16] [--seconds 10] [--accounts 3] [--rounds 10]

One server process (embedded PostgreSQL in a temporary folder) serves both:
(a) `POST /graphql` with `{ accounts { ... } }`, and (b) a bare Starlette
endpoint mounted in the same app that authenticates the same bearer token,
runs the same SQL in the same tenant transaction and returns the same JSON.
A second process drives N keep-alive clients at each for a fixed time (in
alternating turns, after the same warm-up) and prints requests/s, p50 and p99
for both and the ratio (a)/(b). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERY = "{ accounts { id nickname environment keyHint isActive createdAt lastVerifiedAt } }"
FLOOR_PATH = "/bench/accounts"


# ----------------------------------------------------------------------------- server side


def floor_route(services: Any, *, pwa_fields: bool = False) -> Any:
    """The bare endpoint (b): the same authentication, SQL, tenant transaction and JSON as
    the `accounts` query, with no GraphQL. With `pwa_fields`, at FLOOR_PATH/pwa, it also
    answers what the PWA's own `Accounts` document asks beyond that (`chatAutoExecute`, and
    `halted`, each account's controls read as its resolver reads them, concurrently):
    the floor of that document in bench/request_profile.py."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from api.accounts.records import SELECT, Account
    from schema.accounts.types import BrokerAccount

    auth, database, risk = services.auth, services.database, services.risk

    async def floor(request: Request) -> Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        principal = await auth.authenticate(token)
        async with database.tenant(principal.user_id) as conn:
            rows = await conn.fetch(f"{SELECT} order by a.created_at, a.id")
        accounts = []
        records = [Account.from_row(row) for row in rows]
        for record in records:
            account = BrokerAccount.of(record)
            accounts.append(
                {
                    "id": str(account.id),
                    "nickname": account.nickname,
                    "environment": account.environment.value,
                    "keyHint": account.key_hint,
                    "isActive": account.is_active,
                    "createdAt": account.created_at.isoformat(),
                    "lastVerifiedAt": account.last_verified_at.isoformat(),
                }
            )
        if pwa_fields:
            # the accounts' halts in one tenant transaction, as the schema reads them
            controls = await risk.controls_of(records)
            for answer, record, control in zip(accounts, records, controls, strict=True):
                answer["chatAutoExecute"] = record.record.chat_auto_execute
                answer["halted"] = control.halted
        body = json.dumps({"data": {"accounts": accounts}}).encode()
        return Response(body, media_type="application/json")

    return Route(FLOOR_PATH + "/pwa" if pwa_fields else FLOOR_PATH, floor, methods=["POST"])


def serve(port: int, home: str) -> None:
    """Run the real app plus the floor endpoint (called in the server subprocess)."""
    import gc

    import uvicorn
    import uvloop

    from api.app import create_app
    from api.config import load_settings
    from api.db import open_database
    from api.logs import configure_logging
    from api.services import Services

    async def main() -> None:
        settings = load_settings({"ALPACA_CHAT_HOME": home, "GRAPHIQL": "false"})
        configure_logging(settings, level="WARNING")
        database, server = await open_database(settings)
        await database.connect()  # as `alpaca-chat serve` does (api/cli.py)
        services = Services.build(settings, database)
        app = create_app(services)
        app.router.routes.insert(0, floor_route(services))
        config = uvicorn.Config(app, port=port, log_level="warning", http="httptools")
        web = uvicorn.Server(config)
        serving = asyncio.create_task(web.serve())
        while not web.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        gc.freeze()  # as `alpaca-chat serve` does once started (api/cli.py)
        try:
            await serving
        finally:
            await database.close()
            server.stop()

    uvloop.run(main())


# ----------------------------------------------------------------------------- load side


class Client:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost little."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, path: str, body: bytes, token: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n"
            f"content-type: application/json\r\nauthorization: Bearer {token}\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = header.split(b" ", 2)[1]
        length = 0
        for line in header.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        payload = await self.reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"HTTP {status.decode()}: {payload[:200]!r}")
        return payload


async def _graphql(port: int, query: str, token: str | None = None) -> dict:
    client = Client(port)
    await client.open()
    body = json.dumps({"query": query}).encode()
    result = json.loads(await client.post("/graphql", body, token or ""))
    client.writer.close()
    return result


async def _prepare(port: int) -> tuple[str, str]:
    """The benchmark user's token and id."""
    signed = await _graphql(
        port,
        'mutation { signUp(email: "bench@example.com", password: "bench-password-1") '
        "{ token user { id } } }",
    )
    payload = signed["data"]["signUp"]
    return payload["token"], payload["user"]["id"]


async def _load(
    port: int, path: str, body: bytes, token: str, clients: int, seconds: float
) -> tuple[list[float], float]:
    """Latencies of every request N clients complete in `seconds`, and the time taken."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        client = Client(port)
        await client.open()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await client.post(path, body, token)
            latencies.append(time.perf_counter() - started)
        client.writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return latencies, time.perf_counter() - started


def _figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def store_accounts(database: Any, vault: Any, user: str, count: int) -> None:
    """Fake account rows for the benchmark user (no broker call: the query never asks it)."""
    from api.vault import key_hint

    for n in range(count):
        async with database.tenant(user) as conn:
            account_id = await conn.fetchval("select gen_random_uuid()")
            await conn.execute(
                """insert into app.broker_accounts (id, owner_id, nickname, environment,
                   key_id_encrypted, secret_encrypted, key_hint, broker_account_number,
                   last_verified_at) values ($1, $2, $3, 'PAPER', $4, $5, $6, $7, now())""",
                account_id,
                user,
                f"Bench {n}",
                vault.encrypt("bench-key", account_id=account_id, owner_id=user),
                vault.encrypt("bench-secret", account_id=account_id, owner_id=user),
                key_hint("bench-not-a-key"),
                f"BENCH{n}",
            )


def _store_accounts(home: str, user: str, count: int) -> None:
    import uvloop

    from api.config import load_settings
    from api.db import Database
    from api.db.database import RUNTIME_ROLE, with_user
    from api.db.embedded import EmbeddedPostgres
    from api.vault import Vault

    async def main() -> None:
        settings = load_settings({"ALPACA_CHAT_HOME": home})
        server = EmbeddedPostgres(settings.home)
        database = Database(server.dsn(), with_user(server.dsn(), RUNTIME_ROLE))
        await database.connect(min_size=1, max_size=1)
        await store_accounts(database, Vault(settings.credentials_keys), user, count)
        await database.close()

    uvloop.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10, help="alternating turns of (a) and (b)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.home)
        return

    home = tempfile.mkdtemp(prefix="acbench-")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    own = ("DATABASE_URL", "RUNTIME_DATABASE_URL", "CREDENTIALS_KEY")
    env = {k: v for k, v in os.environ.items() if k not in own}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--home", home], cwd=ROOT, env=env
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        token, user = asyncio.run(_prepare(port))
        _store_accounts(home, user, args.accounts)
        graphql_body = json.dumps({"query": QUERY}).encode()
        check = asyncio.run(_graphql(port, QUERY, token))
        assert len(check["data"]["accounts"]) == args.accounts, check

        targets = {"floor": (FLOOR_PATH, b"{}"), "graphql": ("/graphql", graphql_body)}

        async def run() -> dict[str, dict[str, float]]:
            # Both get the same warm-up, then short turns taken in alternating order
            # (b a, a b, ...), so a change in the machine's load during the run
            # weighs on both alike instead of on whichever ran second.
            for path, body in targets.values():
                await _load(port, path, body, token, args.clients, 2.0)
            latencies: dict[str, list[float]] = {name: [] for name in targets}
            elapsed = dict.fromkeys(targets, 0.0)
            names = list(targets)
            for turn in range(args.rounds):
                for name in names if turn % 2 == 0 else reversed(names):
                    path, body = targets[name]
                    taken, seconds = await _load(
                        port, path, body, token, args.clients, args.seconds / args.rounds
                    )
                    latencies[name] += taken
                    elapsed[name] += seconds
            return {name: _figures(latencies[name], elapsed[name]) for name in targets}

        figures = asyncio.run(run())
        floor, graphql = figures["floor"], figures["graphql"]
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"accounts query, {args.clients} concurrent clients, {args.seconds:g} s each")
    for name, result in (("(a) /graphql", graphql), ("(b) bare endpoint", floor)):
        print(
            f"{name:20} {result['rps']:8.0f} req/s   p50 {result['p50']:6.2f} ms"
            f"   p99 {result['p99']:6.2f} ms"
        )
    print(f"ratio (a)/(b): {graphql['rps'] / floor['rps']:.2f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
