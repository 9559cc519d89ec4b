"""Memory under a steady mixed load: does a serving process's RSS level off?

    python bench/soak.py [--minutes 3] [--subscribers 36] [--accounts 4] [--trace DIR]

Starts the sandbox broker and `alpaca-chat serve` (on an embedded PostgreSQL in
a temporary home, its broker URLs pointed at the sandbox) as two processes, so
the figures are the server's alone, then runs for `--minutes`:

* readers: `accounts`, `positions`, `orders` and `account` snapshot queries;
* traders: market orders (each with a new idempotency key, so each is a new
  order and a new audit row), buys and sells in turn;
* subscribers: `--subscribers` WebSocket clients of `accountUpdates`, spread over
  the accounts; a third of them hang up and subscribe again every 30 s, so
  stream watches start and end as they do when people come and go.

Every 30 s it prints the server's RSS and what the load did; at the end, the
RSS slope (least squares, in MiB per minute and in KiB per order placed) over
all samples and over the second half, where warm-up (imports, pools, caches
filling) is over. A slope near zero in the second half means memory levels
off; a steady rise means something keeps what it should let go.

`--trace DIR` runs the server under tracemalloc (bench/traced_serve.py, which
starts tracing at the first sample), keeps a snapshot per sample in DIR and
prints what grew over the second half, by line and by traceback. Tracing slows
the server several times, so its RSS figures are not the server's own.

Figures on 2 shared cores, default load. Before the fix in
schema/realtime/execution.py: +0.53 MiB/min, +1.9 KiB per order over the
second half of 10 minutes (3,000 orders), never levelling off; traced, the
growth was graphql-core's memo of collected subfields, which every event added
to on each open subscription. After it: +0.12 MiB/min, +0.3 KiB per order over
the second half of 12 minutes (6,600 orders; RSS 177.5 MiB after the first
minute, 179.2 MiB at the end), which is what the bounded caches still fill:
the notes of reported orders (about 160 bytes an order, at most 2,000 per
watched account, api/live/ledger.py) and the 1,024 newest feed events
(schema/realtime/types.py). Not a test: figures only (docs/architecture.md,
"Performance budget").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.fernet import Fernet
from processes import free_port, stop
from websockets.asyncio.client import connect as ws_connect

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SECONDS = 30.0
START_SECONDS = 180.0  # a traced server (--trace) starts several times slower
TOP_GROWTH = 25
TOP_TRACEBACKS = 8
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway benchmark user
SIGN_UP = """mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }"""
ADD = "mutation($i: AddAccountInput!) { addAccount(input: $i) { id } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }"
READS = (
    "query { accounts { id nickname isActive } }",
    "query($a: UUID) { positions(accountId: $a) { symbol qty marketValue } }",
    "query($a: UUID) { orders(accountId: $a, status: ALL, limit: 20) { id status } }",
    "query($a: UUID!) { account(id: $a) { id snapshot { cash equity buyingPower } } }",
)
UPDATES = (
    "subscription($a: UUID) { accountUpdates(accountId: $a) { __typename "
    "... on OrderEvent { event } } }"
)


@dataclass
class Load:
    queries: int = 0
    orders: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    events: int = 0
    resubscribes: int = 0

    def failed(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def wait_for(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{what} did not start:\n{tail}")
        time.sleep(0.1)


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_sandbox(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = work / "sandbox.log"
    command = [
        sys.executable, "-m", "api.sandbox",
        "--host", "127.0.0.1", "--port", str(port), "--demo-accounts", "0",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    wait_for(lambda: "sandbox ready on" in log.read_text(errors="replace"), "sandbox", process, log)
    return process, f"http://127.0.0.1:{port}"


def start_server(
    work: Path, sandbox: str, subscribers: int, trace: Path | None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = work / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "ALPACA_CHAT_HOME": str(work / "home"),
        "ALPACA_PAPER_URL": f"{sandbox}/paper",
        "ALPACA_LIVE_URL": f"{sandbox}/live",
        "ALPACA_DATA_URL": f"{sandbox}/data",
        "SNAPSHOT_INTERVAL": "2",
        "WS_MAX_PER_USER": str(subscribers + 10),
        "WS_MAX_PER_ADDRESS": str(subscribers + 10),
    }
    serve = ["-m", "api.cli", "serve"]
    if trace is not None:
        serve = [str(ROOT / "bench" / "traced_serve.py"), str(trace)]
    command = [sys.executable, *serve, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: healthy(url), "server", process, log)
    return process, url


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    answer = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    result: dict[str, Any] = answer.json()
    return result


async def attempt(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str, load: Load
) -> dict[str, Any] | None:
    """One request of the load; a failure is counted by its code, never ends the soak."""
    try:
        result = await gql(client, query, variables, token)
    except httpx.TransportError as error:
        load.failed(type(error).__name__)
        return None
    if result.get("errors"):
        load.failed(result["errors"][0].get("extensions", {}).get("code", "?"))
        return None
    return result


async def set_up(url: str, sandbox: str, accounts: int) -> tuple[str, list[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        answer = await client.post(
            "/graphql",
            json={"query": SIGN_UP, "variables": {"e": "soak@example.com", "p": PASSWORD}},
        )
        token: str = answer.json()["data"]["signUp"]["token"]
        ids = []
        for number in range(accounts):
            minted = (
                await client.post(f"{sandbox}/_sandbox/accounts", json={"cash": "10000000"})
            ).json()
            account = {
                "nickname": f"Soak {number}",
                "environment": "PAPER",
                "apiKeyId": minted["api_key_id"],
                "secretKey": minted["secret_key"],
            }
            added = await gql(client, ADD, {"i": account}, token)
            ids.append(added["data"]["addAccount"]["id"])
        # the load is ours: the broker's per-key request budget is not what is measured
        await client.post(f"{sandbox}/_sandbox/faults", json={"rate_limit_per_minute": 1_000_000})
    return token, ids


async def reader(url: str, token: str, accounts: list[str], load: Load, until: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            query = random.choice(READS)
            await attempt(client, query, {"a": random.choice(accounts)}, token, load)
            load.queries += 1
            await asyncio.sleep(0.02)


async def trader(url: str, token: str, accounts: list[str], load: Load, until: float) -> None:
    sides = itertools.cycle(["BUY", "BUY", "SELL"])
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            order = {
                "accountId": random.choice(accounts),
                "symbol": random.choice(["AAPL", "MSFT", "SPY"]),
                "side": next(sides),
                "qty": "1",
                "idempotencyKey": os.urandom(8).hex(),
            }
            if await attempt(client, PLACE, {"i": order}, token, load) is not None:
                load.orders += 1
            await asyncio.sleep(0.1)


async def subscriber(url: str, token: str, account: str, load: Load, stop: asyncio.Event) -> None:
    """Subscribe, listen until `stop`, hang up."""
    ws_url = "ws" + url.removeprefix("http") + "/graphql"
    async with ws_connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        payload = {"query": UPDATES, "variables": {"a": account}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while not stop.is_set():
            try:
                async with asyncio.timeout(1):
                    await ws.recv()
                load.events += 1
            except TimeoutError:
                continue


async def subscribers(
    url: str, token: str, accounts: list[str], count: int, load: Load, until: float
) -> None:
    """`count` subscribers; every SAMPLE_SECONDS a third of them hang up and come back."""
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def open_one(index: int) -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(
            subscriber(url, token, accounts[index % len(accounts)], load, stop)
        )
        return stop, task

    running = [open_one(i) for i in range(count)]
    while time.monotonic() < until:
        await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, until - time.monotonic())))
        for index in range(0, count, 3):
            stop, task = running[index]
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            running[index] = open_one(index)
            load.resubscribes += 1
    for stop, _ in running:
        stop.set()
    results = await asyncio.gather(*(task for _, task in running), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            load.failed(f"subscriber {type(result).__name__}")


@dataclass(frozen=True)
class Sample:
    seconds: float
    mib: float
    orders: int


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares dy/dx of (x, y) points."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def describe_slopes(samples: list[Sample], what: str) -> str:
    per_minute = 60 * slope([(s.seconds, s.mib) for s in samples])
    per_order = 1024 * slope([(s.orders, s.mib) for s in samples])
    return f"{per_minute:+.2f} MiB/min ({per_order:+.2f} KiB/order) {what}"


async def sample(
    server: psutil.Process, load: Load, started: float, until: float, tracing: bool
) -> list[Sample]:
    samples: list[Sample] = []
    while True:
        elapsed = time.monotonic() - started
        rss = server.memory_info().rss / 2**20
        samples.append(Sample(elapsed, rss, load.orders))
        if tracing:
            # the first starts tracing, each later one writes a snapshot (bench/traced_serve.py)
            server.send_signal(signal.SIGUSR1)
        print(
            f"{elapsed:6.0f} s  RSS {rss:7.1f} MiB  queries {load.queries:6d}  orders "
            f"{load.orders:5d}  events {load.events:6d}  resubscribes {load.resubscribes:3d}  "
            f"errors {dict(sorted(load.errors.items()))}",
            flush=True,
        )
        if time.monotonic() >= until:
            return samples
        await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, until - time.monotonic())))


def report_growth(snapshots: Path, first: int, last: int) -> None:
    """What the traced server allocated between two snapshots and still holds."""
    deadline = time.monotonic() + 30
    while not (snapshots / f"{last:03d}.snapshot").exists() and time.monotonic() < deadline:
        time.sleep(0.5)  # the server writes the last one while the load winds down
    before = tracemalloc.Snapshot.load(str(snapshots / f"{first:03d}.snapshot"))
    after = tracemalloc.Snapshot.load(str(snapshots / f"{last:03d}.snapshot"))
    print(f"growth between snapshots {first} and {last}, by line:")
    for stat in after.compare_to(before, "lineno")[:TOP_GROWTH]:
        print(f"  {stat}")
    print("the largest, by traceback:")
    for stat in after.compare_to(before, "traceback")[:TOP_TRACEBACKS]:
        print(f"  {stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks")
        for line in stat.traceback.format(most_recent_first=True):
            print(f"    {line}")


async def soak(url: str, sandbox: str, server: psutil.Process, args: argparse.Namespace) -> None:
    token, accounts = await set_up(url, sandbox, args.accounts)
    started = time.monotonic()
    until = started + args.minutes * 60
    load = Load()
    work = [
        *(reader(url, token, accounts, load, until) for _ in range(3)),
        *(trader(url, token, accounts, load, until) for _ in range(2)),
        subscribers(url, token, accounts, args.subscribers, load, until),
    ]
    tracing = args.trace is not None
    sampler = asyncio.create_task(sample(server, load, started, until, tracing))
    await asyncio.gather(*work)
    samples = await sampler
    second_half = [s for s in samples if s.seconds >= samples[-1].seconds / 2]
    print(
        f"RSS {samples[0].mib:.1f} -> {samples[-1].mib:.1f} MiB after {load.orders} orders; "
        f"slope {describe_slopes(samples, 'overall')}, "
        f"{describe_slopes(second_half, 'over the second half')}"
    )
    if tracing and len(samples) > 2:
        # tracing began at the first sample; snapshot n was written at sample n + 1
        report_growth(args.trace, max(0, samples.index(second_half[0]) - 1), len(samples) - 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=36)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument(
        "--trace",
        type=Path,
        help="run the server under tracemalloc, keep its snapshots here and print what grew",
    )
    args = parser.parse_args()
    # stopped from outside: still stop the server and the sandbox (the `finally` below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = Path(tempfile.mkdtemp(prefix="alpaca-soak-"))
    os.chmod(work, 0o755)  # noqa: S103 - the embedded server's own user enters the home
    sandbox_process, sandbox = start_sandbox(work)
    server_process = None
    try:
        if args.trace is not None:
            args.trace.mkdir(parents=True, exist_ok=True)
        server_process, url = start_server(work, sandbox, args.subscribers, args.trace)
        asyncio.run(soak(url, sandbox, psutil.Process(server_process.pid), args))
    finally:
        for process in (server_process, sandbox_process):
            if process is not None:
                stop(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
