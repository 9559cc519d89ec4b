"""Fan-out through the event bus alone: N subscribers of one account in one process.

Measures what the bus adds to the subscription budget in
docs/architecture.md#performance-budget (10,000
subscribers per process, an event reaching all of them within 250 ms p99,
under 40 KiB per idle subscriber). Each event is published with `pg_notify`
from a pool connection, travels through PostgreSQL to the bus's listening
connection, and is put into every subscriber's queue; a consumer task per
subscriber (standing in for the GraphQL layer's `async for`) takes it out.
Latency is from just before `pg_notify` to the moment the last consumer has
the event; events are sent one at a time so they never queue behind each other.

Memory per idle subscriber, by tracemalloc: the subscription alone (queue,
registration), and with a parked consumer task (task, coroutine, the Future
it waits on). RSS delta is shown as a cross-check. Each N runs in a fresh
process so one run's freed memory does not flatter the next.

    python bench/fanout_bus.py [--subscribers 1000,5000,10000] [--events 200]
                               [--no-uvloop] [--gc-freeze]

Uses DATABASE_URL if set, otherwise a throwaway embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import psutil

from api.broker.models import BrokerOrder
from api.db import Database
from api.db.database import RUNTIME_ROLE, with_user
from api.db.migrations import migrate
from api.realtime import EventBus, Subscription, account_key, publish
from api.realtime.events import OrderEvent


def order_event(owner: UUID, account: UUID, order_id: str) -> OrderEvent:
    """A fill of a realistic size (~850 bytes on the wire)."""
    now = datetime.now(UTC)
    order = BrokerOrder(
        id=order_id,
        client_order_id=str(uuid4()),
        symbol="AAPL",
        asset_class="us_equity",
        side="buy",
        type="limit",
        time_in_force="day",
        status="filled",
        qty=Decimal(10),
        notional=None,
        filled_qty=Decimal(10),
        filled_avg_price=Decimal("187.25"),
        limit_price=Decimal("187.25"),
        stop_price=None,
        extended_hours=False,
        created_at=now,
        updated_at=now,
        submitted_at=now,
        filled_at=now,
        canceled_at=None,
    )
    return OrderEvent(account, owner, "fill", order, now, Decimal("187.25"), Decimal(10))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _consume(sub: Subscription, state: dict) -> None:
    async for _event in sub:
        state["count"] += 1
        if state["count"] == state["n"]:
            state["done"].set_result(time.perf_counter())


async def _memory(bus: EventBus, n: int) -> dict[str, float]:
    """Bytes per subscriber by tracemalloc: subscriptions alone, then with parked consumers."""
    owner, account = uuid4(), uuid4()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    subs = [bus.subscribe(account_key(owner, account)) for _ in range(n)]
    for sub in subs:
        await sub.__aenter__()
    with_subs = tracemalloc.take_snapshot()
    state = {"count": 0, "n": n}
    tasks = [asyncio.create_task(_consume(sub, state)) for sub in subs]
    await asyncio.sleep(0.2)  # every consumer reaches its await and creates its Future
    with_tasks = tracemalloc.take_snapshot()
    tracemalloc.stop()
    result = {
        "bus_bytes": sum(s.size_diff for s in with_subs.compare_to(base, "filename")) / n,
        "with_task_bytes": sum(s.size_diff for s in with_tasks.compare_to(base, "filename")) / n,
    }
    for sub in subs:
        sub.close()
    await asyncio.gather(*tasks)
    return result


async def _latency(
    bus: EventBus, database: Database, n: int, events: int, freeze: bool
) -> dict[str, float]:
    owner, account = uuid4(), uuid4()
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    subs = [bus.subscribe(account_key(owner, account)) for _ in range(n)]
    for sub in subs:
        await sub.__aenter__()
    state: dict = {"count": 0, "n": n}
    tasks = [asyncio.create_task(_consume(sub, state)) for sub in subs]
    await asyncio.sleep(0.2)
    rss_per_sub = (process.memory_info().rss - rss_before) / n
    if freeze:
        # What a server can do once warm: long-lived objects leave the collector's scans.
        gc.collect()
        gc.freeze()

    # Time spent inside the bus's dispatch (decode excluded): one dict lookup + n puts.
    dispatch_times: list[float] = []
    original = bus._dispatch

    def timed(event: OrderEvent) -> None:
        started = time.perf_counter()
        original(event)  # type: ignore[arg-type]
        dispatch_times.append(time.perf_counter() - started)

    bus._dispatch = timed  # type: ignore[method-assign]

    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    async with database.pool.acquire() as conn:
        for i in range(events + 10):  # the first 10 warm up caches and prepared statements
            state["count"] = 0
            state["done"] = loop.create_future()
            event = order_event(owner, account, f"bench-{i}")
            sent = time.perf_counter()
            await publish(conn, event)
            last = await asyncio.wait_for(state["done"], 10)
            if i >= 10:
                latencies.append(last - sent)
    bus._dispatch = original  # type: ignore[method-assign]
    gc.unfreeze()
    for sub in subs:
        sub.close()
    await asyncio.gather(*tasks)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "dispatch_p50_ms": statistics.median(dispatch_times[10:]) * 1000,
        "rss_bytes": rss_per_sub,
    }


async def _worker(dsn: str, n: int, events: int, freeze: bool) -> dict[str, float]:
    database = Database(dsn, with_user(dsn, RUNTIME_ROLE))
    await database.connect(min_size=1, max_size=2)
    bus = EventBus(database)
    await bus.start()
    try:
        result = await _latency(bus, database, n, events, freeze)
        result.update(await _memory(bus, n))
    finally:
        await bus.stop()
        await database.close()
    result["n"] = n
    return result


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="1000,5000,10000")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--no-uvloop", action="store_true")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after set-up")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        if args.no_uvloop:
            runner = asyncio.run
        else:
            import uvloop

            runner = uvloop.run
        result = runner(_worker(args.dsn, args.worker, args.events, args.gc_freeze))
        sys.stdout.write(json.dumps(result) + "\n")
        return

    home = None
    admin = os.environ.get("DATABASE_URL")
    server = None
    if not admin:
        from api.db.embedded import EmbeddedPostgres

        home = Path(tempfile.mkdtemp(prefix="acbench-"))
        server = EmbeddedPostgres(home)
        admin = server.dsn("postgres")
    name = f"alpaca_chat_bench_{os.getpid()}"
    asyncio.run(_admin(admin, f'create database "{name}"'))
    dsn = _with_database(admin, name)
    try:
        asyncio.run(migrate(dsn))
        loop_name = "asyncio" if args.no_uvloop else "uvloop"
        gc_mode = ", gc.freeze()" if args.gc_freeze else ""
        print(f"event bus fan-out, one account, {args.events} events per run, {loop_name}{gc_mode}")
        print(
            f"{'subscribers':>11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'dispatch ms':>12}"
            f" {'bus B/sub':>10} {'+task B/sub':>12} {'RSS B/sub':>10}"
        )
        for n in (int(x) for x in args.subscribers.split(",")):
            command = [sys.executable, __file__, "--worker", str(n), "--dsn", dsn]
            command += ["--events", str(args.events)]
            if args.no_uvloop:
                command.append("--no-uvloop")
            if args.gc_freeze:
                command.append("--gc-freeze")
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{n:>11} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f}"
                f" {r['dispatch_p50_ms']:>12.2f} {r['bus_bytes']:>10.0f}"
                f" {r['with_task_bytes']:>12.0f} {r['rss_bytes']:>10.0f}"
            )
    finally:
        asyncio.run(_admin(admin, f'drop database if exists "{name}" with (force)'))
        if server is not None:
            server.stop()
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
