"""Subscription fan-out end to end: N WebSocket subscribers of one account, one server.

    python bench/fanout.py [--subscribers 1000,5000,10000] [--events 100] [--clients 3]

Measures the subscription budget of docs/architecture.md#performance-budget (10,000
subscribers on one
process; an event reaches all of them in under 250 ms p99; under 40 KiB per
idle subscriber) through everything a subscriber really meets: a real server
process (`alpaca-chat serve`, uvicorn + Strawberry, the event bus, the stream
supervisor, the sandbox as broker), graphql-transport-ws over TCP, and
`accountUpdates` on one account by one user.

Each event is a `SnapshotEvent` sent with `pg_notify` from this process, its
send time in `asOf` and its sequence number in `cash`. Events go one at a
time: the next is sent once every subscriber has the previous one, so they
never queue behind each other. Latency is receive time minus send time, taken
by client processes (minimal WebSocket clients on uvloop, `--clients` of
them) on the same machine and clock; "last" is the slowest subscriber of each
event, "all" every delivery. Client processes share the CPU with the server,
so on a small machine the figures include their time too.

The floor: in the same run, the same clients subscribe to a bare broadcaster on
the same stack (uvicorn with the same WebSocket implementation and event loop,
the same LISTEN on the same channel) that answers graphql-transport-ws by hand
and writes each event as one pre-encoded `next` frame to every socket, with no
GraphQL; the last columns are the product's latencies over the floor's.

Memory: the server's RSS once all N are subscribed and idle, minus its RSS
before the first one connected, divided by N. Each N runs on a fresh server.
Needs `ulimit -n` above N + a few hundred (the script raises its soft limit to
the hard one). Uses DATABASE_URL if set, otherwise a throwaway embedded PostgreSQL.
FANOUT_PROFILE=/tmp/server.prof runs the server under cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import httpx
import psutil
from processes import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
SUBSCRIPTION = (
    "subscription U($id: UUID) { accountUpdates(accountId: $id) { __typename "
    "... on SnapshotEvent { snapshot { cash asOf } } } }"
)


# ----------------------------------------------------------------------------- client side


class Subscriber(asyncio.Protocol):
    """A minimal graphql-transport-ws client: just enough WebSocket to subscribe and listen.

    Server frames are unmasked and small, so parsing is a few slices; the
    receive time is taken when a frame is complete.
    """

    def __init__(self, host: str, path: str, token: str, account: str, sink: Sink) -> None:
        self.host, self.path, self.token, self.account, self.sink = host, path, token, account, sink
        self.buffer = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.subscribed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        transport.write(request.encode())  # type: ignore[attr-defined]

    def send(self, message: dict) -> None:
        self.send_frame(0x81, json.dumps(message).encode())

    def send_frame(self, first: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        if n < 126:
            header = bytes([first, 0x80 | n])
        else:
            header = bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
        assert self.transport is not None
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.buffer[: self.buffer.find(b"\r\n")]
            if b" 101 " not in status:
                self.subscribed.set_exception(RuntimeError(status.decode()))
                return
            self.buffer = self.buffer[end + 4 :]
            self.upgraded = True
            self.send({"type": "connection_init", "payload": {"authorization": self.token}})
        while len(self.buffer) >= 2:
            length = self.buffer[1] & 0x7F
            start = 2
            if length == 126:
                length, start = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < start + length:
                return
            opcode = self.buffer[0] & 0x0F
            frame = self.buffer[start : start + length]
            self.buffer = self.buffer[start + length :]
            if opcode == 0x9:  # ping: uvicorn closes connections that do not answer
                self.send_frame(0x8A, frame)
            elif opcode == 0x1:
                self.on_message(frame, now)

    def on_message(self, frame: bytes, now: float) -> None:
        if b'"connection_ack"' in frame:
            self.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIPTION, "variables": {"id": self.account}},
                }
            )
            return
        if b'"next"' not in frame:
            if not self.subscribed.done():
                self.subscribed.set_exception(RuntimeError(frame.decode(errors="replace")))
            return
        if not self.subscribed.done():
            self.subscribed.set_result(None)  # the first snapshot
            return
        message = json.loads(frame)
        snapshot = message["payload"]["data"]["accountUpdates"]["snapshot"]
        sequence = Decimal(snapshot["cash"])
        if sequence < 0:
            sent = datetime.fromisoformat(snapshot["asOf"]).timestamp()
            self.sink.received(int(-sequence), now - sent)


class Sink:
    """Latencies per event in one client process; reports when all its subscribers have one."""

    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.latencies: dict[int, list[float]] = {}

    def received(self, sequence: int, latency: float) -> None:
        got = self.latencies.setdefault(sequence, [])
        got.append(latency)
        if len(got) == self.subscribers:
            sys.stdout.write(f"got {sequence} {max(got):.6f}\n")
            sys.stdout.flush()


async def client_main(url: str, token: str, account: str, count: int) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    sink = Sink(count)
    subscribers: list[Subscriber] = []
    batch = 100
    for start in range(0, count, batch):
        made = [
            Subscriber(f"{host}:{port}", parts.path, f"Bearer {token}", account, sink)
            for _ in range(min(batch, count - start))
        ]
        await asyncio.gather(*(loop.create_connection(lambda s=s: s, host, port) for s in made))
        await asyncio.gather(*(s.subscribed for s in made))
        subscribers.extend(made)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await loop.run_in_executor(None, sys.stdin.readline)  # "done" from the parent
    everything = [x for values in sink.latencies.values() for x in values]
    sys.stdout.write("all " + json.dumps([round(x, 5) for x in everything]) + "\n")
    sys.stdout.flush()


# ----------------------------------------------------------------------------- the floor


def floor_main(port: int, dsn: str) -> None:
    """The bare broadcaster (see the module docstring); runs until terminated."""
    import gc

    import orjson
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from api.realtime.events import CHANNEL, SnapshotEvent, decode

    sockets: set[WebSocket] = set()

    def frame(cash: str, as_of: str) -> str:
        snapshot = {"__typename": "SnapshotEvent", "snapshot": {"cash": cash, "asOf": as_of}}
        message = {"id": "1", "type": "next", "payload": {"data": {"accountUpdates": snapshot}}}
        return orjson.dumps(message).decode()

    async def broadcast(text: str) -> None:
        for ws in tuple(sockets):
            try:
                await ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError):
                sockets.discard(ws)

    def on_notify(conn: object, pid: int, channel: str, payload: str) -> None:
        event = decode(payload)
        if isinstance(event, SnapshotEvent):
            text = frame(str(event.cash), event.as_of.isoformat())  # encoded once per event
            asyncio.get_running_loop().create_task(broadcast(text))

    async def subscriber(ws: WebSocket) -> None:
        await ws.accept(subprotocol="graphql-transport-ws")
        await ws.receive_text()  # connection_init
        await ws.send_text('{"type":"connection_ack"}')
        await ws.receive_text()  # subscribe
        await ws.send_text(frame("0", datetime.now(UTC).isoformat()))  # the first snapshot
        sockets.add(ws)
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sockets.discard(ws)

    async def main() -> None:
        listener = await asyncpg.connect(dsn)
        await listener.add_listener(CHANNEL, on_notify)
        app = Starlette(routes=[WebSocketRoute("/graphql", subscriber)])
        config = uvicorn.Config(
            app, port=port, log_config=None, server_header=False, ws="websockets-sansio"
        )
        web = uvicorn.Server(config)
        serving = asyncio.create_task(web.serve())
        while not web.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        gc.freeze()  # as `alpaca-chat serve` does once started
        print("floor ready", flush=True)
        await serving

    import uvloop

    uvloop.run(main())


# ----------------------------------------------------------------------------- parent side


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"{log.name}: {text!r} not seen; see {log}")
        time.sleep(0.05)


def wait_healthy_or_exit(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_healthy(base, process)
    except RuntimeError:
        raise SystemExit(f"server did not start; see {log}") from None


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
            preexec_fn=raise_fd_limit,
        )  # fmt: skip


def graphql(url: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
    result = body.json()
    if result.get("errors"):
        raise SystemExit(f"GraphQL error: {result['errors']}")
    return result["data"]


def snapshot_payload(owner: UUID, account: UUID, sequence: int) -> str:
    from api.realtime.events import SnapshotEvent, encode

    now = datetime.now(UTC)
    value = Decimal(-sequence)
    return encode(
        SnapshotEvent(account, owner, value, value, value, value, value, "USD", "ACTIVE", now,
                      False, False)
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    n: int,
    clients: int,
    url: str,
    token: str,
    dsn: str,
    owner: UUID,
    account: UUID,
    events: int,
    server: psutil.Process,
) -> dict[str, float]:
    """Connect N subscribers in client processes, measure memory, then send and time events."""
    from api.realtime.events import CHANNEL

    rss_before = server.memory_info().rss
    started = time.monotonic()
    shares = [n // clients + (i < n % clients) for i in range(clients)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client", str(count), "--url", url, "--token", token,
            "--account", str(account), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            preexec_fn=raise_fd_limit, limit=1 << 27,
        )
        for count in shares
    ]  # fmt: skip
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = (await proc.stdout.readline()).decode().strip()
            if line != "ready":
                raise SystemExit(f"a client failed: {line!r}")
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(2.0)  # idle: let connection set-up garbage go
        rss_idle = server.memory_info().rss

        conn = await asyncpg.connect(dsn)
        last: list[float] = []
        try:
            for sequence in range(1, events + 1):
                payload = snapshot_payload(owner, account, sequence)
                await conn.execute("select pg_notify($1, $2)", CHANNEL, payload)
                worst = 0.0
                async with asyncio.timeout(30):
                    for proc in procs:
                        assert proc.stdout is not None
                        while True:
                            line = (await proc.stdout.readline()).decode()
                            if line.startswith(f"got {sequence} "):
                                worst = max(worst, float(line.split()[2]))
                                break
                last.append(worst)
                await asyncio.sleep(0.02)
        finally:
            await conn.close()

        everything: list[float] = []
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(b"done\n")
            await proc.stdin.drain()
            while not (line := (await proc.stdout.readline()).decode()).startswith("all "):
                if not line:
                    raise SystemExit("a client ended early")
            everything.extend(json.loads(line[4:]))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
    return {
        "connect_s": connect_seconds,
        "last_p50_ms": statistics.median(last) * 1000,
        "last_p99_ms": percentile(last, 0.99) * 1000,
        "all_p50_ms": statistics.median(everything) * 1000,
        "all_p99_ms": percentile(everything, 0.99) * 1000,
        "kib_per_sub": (rss_idle - rss_before) / n / 1024,
    }


def run_one(n: int, events: int, client_count: int, dsn: str, work: Path, sandbox: str) -> dict:
    from cryptography.fernet import Fernet

    from api.db.database import RUNTIME_ROLE, with_user

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "RUNTIME_DATABASE_URL": with_user(dsn, RUNTIME_ROLE),
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "ALPACA_CHAT_HOME": str(work / f"home-{n}"),
        "ALPACA_PAPER_URL": f"{sandbox}/paper",
        "ALPACA_LIVE_URL": f"{sandbox}/live",
        "ALPACA_DATA_URL": f"{sandbox}/data",
        "SNAPSHOT_INTERVAL": "3600",  # only the benchmark's events, no periodic refresh noise
        # every subscriber is the same user on one address: lift the per-user/address caps
        "WS_MAX_PER_USER": str(n + 10),
        "WS_MAX_PER_ADDRESS": str(n + 10),
    }
    log = work / f"server-{n}.log"
    output = os.environ.get("FANOUT_PROFILE")  # cProfile the server into this file
    profile = ["-m", "cProfile", "-o", output] if output else []
    command = [sys.executable, *profile, "-m", "api.cli", "serve", "--port", str(port)]
    server = start(command, log, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy_or_exit(base, server, log)
        url = base + "/graphql"
        email = f"bench{n}@example.com"
        signed = graphql(
            url,
            'mutation S($e: String!) { signUp(email: $e, password: "correct horse battery") '
            "{ token user { id } } }",
            {"e": email},
        )["signUp"]
        token, owner = signed["token"], UUID(signed["user"]["id"])
        minted = httpx.post(f"{sandbox}/_sandbox/accounts", json={}).json()
        added = graphql(
            url,
            "mutation A($i: AddAccountInput!) { addAccount(input: $i) { id } }",
            {"i": {"nickname": "Bench", "environment": "PAPER",
                   "apiKeyId": minted["api_key_id"], "secretKey": minted["secret_key"]}},
            token,
        )["addAccount"]  # fmt: skip
        account = UUID(added["id"])

        time.sleep(1.0)
        ws_url = url.replace("http", "ws")
        process = psutil.Process(server.pid)
        return asyncio.run(
            drive(n, client_count, ws_url, token, dsn, owner, account, events, process)
        )
    finally:
        stop(server)


def run_floor(n: int, events: int, client_count: int, dsn: str, work: Path) -> dict:
    """The same clients and events against the bare broadcaster, on a fresh process."""
    port = free_port()
    log = work / f"floor-{n}.log"
    command = [sys.executable, __file__, "--floor", str(port), "--dsn", dsn]
    floor = start(command, log, {**os.environ})
    try:
        wait_for(log, "floor ready", floor)
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        process = psutil.Process(floor.pid)
        owner, account = uuid4(), uuid4()  # any: the floor routes nothing
        return asyncio.run(
            drive(n, client_count, ws_url, "floor", dsn, owner, account, events, process)
        )
    finally:
        stop(floor)


def _row(name: str, n: int, r: dict) -> str:
    return (
        f"{name:>7} {n:>11} {r['connect_s']:>9.1f} {r['last_p50_ms']:>9.1f}"
        f" {r['last_p99_ms']:>9.1f} {r['all_p50_ms']:>8.1f} {r['all_p99_ms']:>8.1f}"
        f" {r['kib_per_sub']:>8.1f}"
    )


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--subscribers", default="1000,5000,10000")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--clients", type=int, default=3, help="client processes")
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--account", help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.floor:
        floor_main(args.floor, args.dsn)
        return

    if args.client:
        import uvloop

        uvloop.run(client_main(args.url, args.token, args.account, args.client))
        return

    raise_fd_limit()
    sys.path.insert(0, str(ROOT))
    from api.db.migrations import migrate

    work = Path(tempfile.mkdtemp(prefix="acfanout-"))
    pg = None
    admin_dsn = os.environ.get("DATABASE_URL")
    if not admin_dsn:
        from api.db.embedded import EmbeddedPostgres

        pg = EmbeddedPostgres(work / "pg")
        admin_dsn = pg.dsn("postgres")
    sandbox_port = free_port()
    sandbox_log = work / "sandbox.log"
    sandbox = start(
        [sys.executable, "-m", "api.sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
         "--demo-accounts", "0"],
        sandbox_log, {**os.environ},
    )  # fmt: skip
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    try:
        wait_for(sandbox_log, "sandbox ready on", sandbox)
        httpx.post(f"{sandbox_url}/_sandbox/faults", json={"rate_limit_per_minute": 1_000_000})
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        print(
            f"accountUpdates fan-out: one server process, one account, {args.events} events per "
            f"run, {args.clients} client processes, {os.cpu_count()} CPUs, fd limit {limit}"
        )
        print(
            f"{'server':>7} {'subscribers':>11} {'connect s':>9} {'last p50':>9} {'last p99':>9}"
            f" {'all p50':>8} {'all p99':>8} {'KiB/sub':>8}   (latencies in ms)"
        )
        for n in (int(x) for x in args.subscribers.split(",")):
            name = f"alpaca_chat_fanout_{os.getpid()}_{n}"
            asyncio.run(admin(admin_dsn, f'create database "{name}"'))
            dsn = with_database(admin_dsn, name)
            try:
                asyncio.run(migrate(dsn))
                r = run_one(n, args.events, args.clients, dsn, work, sandbox_url)
                print(_row("product", n, r), flush=True)
                f = run_floor(n, args.events, args.clients, dsn, work)
                print(_row("floor", n, f), flush=True)
                print(
                    f"{'ratio':>7} {n:>11} {'':>9} {r['last_p50_ms'] / f['last_p50_ms']:>9.2f}"
                    f" {r['last_p99_ms'] / f['last_p99_ms']:>9.2f}"
                    "   (product / floor, last subscriber; target <= 1.5)",
                    flush=True,
                )
            finally:
                asyncio.run(admin(admin_dsn, f'drop database if exists "{name}" with (force)'))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
