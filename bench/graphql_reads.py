"""The `accounts` query through /graphql against the floor of our stack, and a peer.

    python bench/graphql_reads.py [--clients 16] [--seconds 10] [--accounts 3] [--rounds 10]
                                  [--no-peer]

One server process (embedded PostgreSQL in a temporary folder) serves both:
(a) `POST /graphql` with `{ accounts { ... } }`, and (b) a bare Starlette
endpoint mounted in the same app that authenticates the same bearer token,
runs the same SQL in the same tenant transaction and returns the same JSON.
(c) When `node` and `npm` are on the PATH, PostGraphile v4 (installed once
with npm into ~/.cache/alpaca-chat-bench) serves the same rows of the same
PostgreSQL under the same row-level security (bench/postgraphile_peer.mjs)
its equivalent query, one Node process; without them it is skipped with a note.
The driver checks that each answers the benchmark's rows (an empty answer
is fast and wrong), then drives N keep-alive clients at each for a fixed
time (in alternating turns, after the same warm-up) and prints requests/s,
p50 and p99 for each, and the ratios (a)/(b) and (a)/(c). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from processes import free_port, stop, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
QUERY = "{ accounts { id nickname environment keyHint isActive createdAt lastVerifiedAt } }"
# PostGraphile's equivalent: `isActive` is the owner's active account id compared by the client
PEER_QUERY = (
    "{ allBrokerAccounts(orderBy: CREATED_AT_ASC) { nodes { id nickname environment keyHint"
    " createdAt lastVerifiedAt userByOwnerId { activeAccountId } } } }"
)
PEER_ROLE = "bench_postgraphile"
PEER_CACHE = Path.home() / ".cache" / "alpaca-chat-bench" / "postgraphile4"
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
    from api.cli import GracefulServer
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
        web = GracefulServer(config)  # stops the embedded PostgreSQL below on SIGTERM
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
        try:
            await store_accounts(database, Vault(settings.credentials_keys), user, count)
        finally:
            await database.close()
            server.stop()  # lets go of the cluster: the server process still holds it

    uvloop.run(main())


def _peer_login(home: str) -> str:
    """A login role of the embedded cluster that may SET ROLE alpaca_chat_app: its DSN."""
    import asyncpg
    import uvloop

    from api.config import load_settings
    from api.db.database import RUNTIME_ROLE, with_user
    from api.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(load_settings({"ALPACA_CHAT_HOME": home}).home)

    async def create_role() -> None:
        conn = await asyncpg.connect(server.dsn())
        try:
            await conn.execute(f"create role {PEER_ROLE} login")
            await conn.execute(f"grant {RUNTIME_ROLE} to {PEER_ROLE}")
        finally:
            await conn.close()

    try:
        uvloop.run(create_role())
    finally:
        server.stop()  # lets go of the cluster: the server process still holds it
    return with_user(server.dsn(), PEER_ROLE)


def _install_peer() -> Path | str:
    """postgraphile@4's node_modules folder, installed once; or why there is no peer."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        return "node and npm are not on the PATH"
    modules = PEER_CACHE / "node_modules"
    if not (modules / "postgraphile").is_dir():
        PEER_CACHE.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(PEER_CACHE), "--no-audit", "--no-fund"]
        done = subprocess.run(
            [*command, "postgraphile@4"], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            return f"npm install postgraphile@4 failed: {done.stderr.strip()[-300:]}"
    return modules


def _start_peer(
    modules: Path, dsn: str, token: str, user: str
) -> tuple[subprocess.Popen[bytes], int]:
    """bench/postgraphile_peer.mjs on a free port, once it listens."""
    port = free_port()
    env = {
        **os.environ,
        "PEER_NODE_MODULES": str(modules),
        "PEER_DATABASE_URL": dsn,
        "PEER_PORT": str(port),
        "PEER_TOKEN": token,
        "PEER_USER_ID": user,
    }
    script = ROOT / "bench" / "postgraphile_peer.mjs"
    peer = subprocess.Popen(["node", str(script)], env=env, stdout=subprocess.DEVNULL)
    wait_for_port(port, peer)
    return peer, port


def _check_answers(port: int, token: str, peer_port: int | None, count: int) -> None:
    """Each contestant answers the benchmark's rows, not an empty list."""
    ours = asyncio.run(_graphql(port, QUERY, token))
    assert len(ours["data"]["accounts"]) == count, ours
    if peer_port is not None:
        theirs = asyncio.run(_graphql(peer_port, PEER_QUERY, token))
        nodes = theirs["data"]["allBrokerAccounts"]["nodes"]
        assert [n["nickname"] for n in nodes] == [a["nickname"] for a in ours["data"]["accounts"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10, help="alternating turns of each")
    parser.add_argument("--no-peer", action="store_true", help="leave PostGraphile out")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.home)
        return

    home = tempfile.mkdtemp(prefix="acbench-")
    port = free_port()
    own = ("DATABASE_URL", "RUNTIME_DATABASE_URL", "CREDENTIALS_KEY")
    env = {k: v for k, v in os.environ.items() if k not in own}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--home", home], cwd=ROOT, env=env
    )
    peer: subprocess.Popen[bytes] | None = None
    modules = "left out (--no-peer)" if args.no_peer else _install_peer()
    try:
        wait_for_port(port, server)
        token, user = asyncio.run(_prepare(port))
        _store_accounts(home, user, args.accounts)
        targets = {
            "floor": (port, FLOOR_PATH, b"{}"),
            "graphql": (port, "/graphql", json.dumps({"query": QUERY}).encode()),
        }
        if isinstance(modules, Path):
            peer, peer_port = _start_peer(modules, _peer_login(home), token, user)
            targets["peer"] = (peer_port, "/graphql", json.dumps({"query": PEER_QUERY}).encode())
        _check_answers(port, token, targets["peer"][0] if peer else None, args.accounts)

        async def run() -> dict[str, dict[str, float]]:
            # All get the same warm-up, then short turns taken in alternating order
            # (a b c, c b a, ...), so a change in the machine's load during the run
            # weighs on all alike instead of on whichever ran last.
            for target, path, body in targets.values():
                await _load(target, path, body, token, args.clients, 2.0)
            latencies: dict[str, list[float]] = {name: [] for name in targets}
            elapsed = dict.fromkeys(targets, 0.0)
            names = list(targets)
            for turn in range(args.rounds):
                for name in names if turn % 2 == 0 else reversed(names):
                    target, path, body = targets[name]
                    taken, seconds = await _load(
                        target, path, body, token, args.clients, args.seconds / args.rounds
                    )
                    latencies[name] += taken
                    elapsed[name] += seconds
            return {name: _figures(latencies[name], elapsed[name]) for name in targets}

        figures = asyncio.run(run())
    finally:
        if peer is not None:
            stop(peer)
        stop(server)  # the last to hold the embedded cluster: it stops it
        shutil.rmtree(home, ignore_errors=True)

    print(f"accounts query, {args.clients} concurrent clients, {args.seconds:g} s each")
    rows = [("(a) /graphql", "graphql"), ("(b) bare endpoint", "floor")]
    rows += [("(c) PostGraphile v4", "peer")] if "peer" in figures else []
    for label, name in rows:
        result = figures[name]
        print(
            f"{label:20} {result['rps']:8.0f} req/s   p50 {result['p50']:6.2f} ms"
            f"   p99 {result['p99']:6.2f} ms"
        )
    ours = figures["graphql"]["rps"]
    print(f"ratio (a)/(b): {ours / figures['floor']['rps']:.2f}  (target >= 0.8)")
    if "peer" in figures:
        print(f"ratio (a)/(c): {ours / figures['peer']['rps']:.2f}  (target >= 1.0)")
    else:
        print(f"(c) PostGraphile v4: skipped, {modules}")


if __name__ == "__main__":
    main()
