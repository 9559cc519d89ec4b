"""OPS-03: the sandbox's entry points, as the product's CLI uses them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from api.sandbox import SandboxStarted, serve_sandbox

ROOT = Path(__file__).resolve().parents[2]


def test_ops03_module_prints_demo_keys_then_ready_line(known_secrets: set[str]) -> None:
    command = [sys.executable, "-m", "api.sandbox", "--port", "0", "--demo-accounts", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        demo, ready = lines[:2], lines[2]
        assert all(line.startswith("sandbox demo paper key") for line in demo)
        assert ready.startswith("sandbox ready on http://127.0.0.1:")
        fields = dict(part.split("=", 1) for part in demo[0].split()[-3:])
        known_secrets.add(fields["secret"])
        base_url = ready.removeprefix("sandbox ready on ")
        headers = {"APCA-API-KEY-ID": fields["key_id"], "APCA-API-SECRET-KEY": fields["secret"]}
        account = httpx.get(f"{base_url}/paper/v2/account", headers=headers).json()
        assert account["account_number"] == fields["account"]
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_ops03_serve_sandbox_in_process_until_cancelled() -> None:
    ready = asyncio.Event()
    started: list[SandboxStarted] = []
    task = asyncio.create_task(
        serve_sandbox("127.0.0.1", 0, demo_accounts=0, ready=ready, on_start=started.append)
    )
    await asyncio.wait_for(ready.wait(), 10)
    async with httpx.AsyncClient() as client:
        clock = await client.get(f"{started[0].paper_url}/v2/clock")
    assert clock.status_code == 401  # served, and it wants keys
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.done()
