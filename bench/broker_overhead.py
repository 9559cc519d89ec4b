"""What the broker gateway costs on top of the broker itself (budget: under 3 ms per call).

Starts the sandbox broker with injected latency (default 20 ms) and an embedded
PostgreSQL in a temporary folder, mints an account, stores it as the product
does (encrypted row), then times N sequential account snapshots two ways in the
same run, alternating blocks so drift hits both alike:

* gateway: ``BrokerGateway.snapshot`` (decrypt, worker thread, pooled HTTP,
  alpaca-py parsing, Decimal dataclass);
* raw: ``requests.Session`` with a pool, same URL, same headers, ``.json()``.

Prints mean, p50 and p99 of both and the overhead per call. Not a test.

    python bench/broker_overhead.py [--latency-ms 20] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import requests
from cryptography.fernet import Fernet
from processes import free_port

from api.broker import AccountRef, BrokerGateway
from api.config import load_settings
from api.db import Database
from api.db.database import RUNTIME_ROLE, with_user
from api.db.embedded import EmbeddedPostgres
from api.db.migrations import migrate
from api.vault import Vault, key_hint

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = 4
WARMUP = 20


def start_sandbox(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "api.sandbox",
        "--host", "127.0.0.1", "--port", str(port), "--demo-accounts", "0",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while "sandbox ready on" not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"sandbox did not start; see {log_path}")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


async def store_account(db: Database, vault: Vault, minted: dict[str, str]) -> AccountRef:
    async with db.anonymous() as conn:
        owner_id = await conn.fetchval("select app.sign_up('bench@example.test', 'x', null)")
    account_id = uuid4()
    key_enc = vault.encrypt(minted["api_key_id"], account_id=account_id, owner_id=owner_id)
    secret_enc = vault.encrypt(minted["secret_key"], account_id=account_id, owner_id=owner_id)
    async with db.tenant(owner_id) as conn:
        await conn.execute(
            """insert into app.broker_accounts
               (id, owner_id, nickname, environment, key_id_encrypted, secret_encrypted, key_hint,
                broker_account_number)
               values ($1, $2, 'bench', 'PAPER', $3, $4, $5, $6)""",
            account_id,
            owner_id,
            key_enc,
            secret_enc,
            key_hint(minted["api_key_id"]),
            minted["account_number"],
        )
    return AccountRef(account_id, owner_id, "PAPER", key_enc, secret_enc)


def summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return (
        f"{name:<8} mean {statistics.fmean(ms):7.3f} ms   p50 {statistics.median(ms):7.3f} ms"
        f"   p99 {p99:7.3f} ms   (n={len(ms)})"
    )


async def run(latency_ms: int, calls: int, workdir: Path) -> None:
    server = EmbeddedPostgres(workdir / "pg")
    sandbox, base = start_sandbox(workdir / "sandbox.log")
    try:
        control = requests.Session()
        control.post(
            f"{base}/_sandbox/faults",
            json={"latency_ms": latency_ms, "rate_limit_per_minute": 1_000_000},
            timeout=10,
        ).raise_for_status()
        minted = control.post(f"{base}/_sandbox/accounts", json={}, timeout=10).json()

        dsn = server.dsn("postgres")
        await migrate(dsn)
        key = Fernet.generate_key().decode()
        settings = load_settings(
            {
                "DATABASE_URL": dsn,
                "CREDENTIALS_KEY": key,
                "ALPACA_CHAT_HOME": str(workdir / "home"),
                "ALPACA_PAPER_URL": f"{base}/paper",
                "ALPACA_LIVE_URL": f"{base}/live",
                "ALPACA_DATA_URL": f"{base}/data",
            }
        )
        db = Database(dsn, with_user(dsn, RUNTIME_ROLE))
        await db.connect(min_size=1, max_size=2)
        vault = Vault([key])
        ref = await store_account(db, vault, minted)
        gateway = BrokerGateway(settings, vault)

        raw = requests.Session()
        raw.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=4))
        url = f"{base}/paper/v2/account"
        headers = {
            "APCA-API-KEY-ID": minted["api_key_id"],
            "APCA-API-SECRET-KEY": minted["secret_key"],
        }

        def raw_call() -> None:
            response = raw.get(url, headers=headers, timeout=(3, 10))
            response.raise_for_status()
            response.json()

        for _ in range(WARMUP):
            await gateway.snapshot(ref)
            raw_call()

        timings: dict[str, list[float]] = {"gateway": [], "raw": []}
        per_block = max(1, calls // BLOCKS)
        for _ in range(BLOCKS):
            for _ in range(per_block):
                started = time.perf_counter()
                await gateway.snapshot(ref)
                timings["gateway"].append(time.perf_counter() - started)
            for _ in range(per_block):
                started = time.perf_counter()
                raw_call()
                timings["raw"].append(time.perf_counter() - started)

        gateway.close()
        raw.close()
        await db.close()

        print(
            f"broker latency injected: {latency_ms} ms; {per_block * BLOCKS} sequential calls each"
        )
        print(summary("gateway", timings["gateway"]))
        print(summary("raw", timings["raw"]))
        mean_over = statistics.fmean(timings["gateway"]) - statistics.fmean(timings["raw"])
        p50_over = statistics.median(timings["gateway"]) - statistics.median(timings["raw"])
        verdict = "within" if mean_over < 0.003 else "OVER"
        print(
            f"overhead per call: mean {mean_over * 1000:+.3f} ms, p50 {p50_over * 1000:+.3f} ms "
            f"({verdict} the 3 ms budget)"
        )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="acbench-"))
    try:
        asyncio.run(run(args.latency_ms, args.calls, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
