"""OPS-01: SIGTERM ends `alpaca-chat serve` cleanly: exit code 0, no traceback in the log,
with the built-in sandbox running and a subscription open."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.log_audit import LOGS
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY, runtime_database_url
from tests.fixtures.server import (
    REPO,
    TLS,
    GraphQLWebSocket,
    RunningServer,
    free_port,
    signed_up_user,
)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(url + "/healthz", timeout=1, verify=TLS).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


async def _hold_a_subscription(server: RunningServer, token: str, opened: asyncio.Event) -> None:
    async with GraphQLWebSocket.connect(server, token=token) as ws:
        await ws.subscribe("subscription { sessionEvents { user { email } } }")
        assert (await ws.receive())["type"] == "next"
        opened.set()
        await ws.wait_closed(seconds=30)


async def _sigterm_with_a_subscription(server: RunningServer, token: str) -> None:
    opened = asyncio.Event()
    holder = asyncio.create_task(_hold_a_subscription(server, token, opened))
    await asyncio.wait_for(opened.wait(), 10)
    server.process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(holder, 30)


def test_sigterm_ends_serve_with_code_0_and_no_traceback(database_url: str, tmp_path: Path) -> None:
    """OPS-01: SIGTERM stops the server, its sandbox and its open WebSocket without a
    traceback (no CancelledError from a cancelled lifespan) and with exit code 0."""
    port, sandbox_port = free_port(), free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / "serve-sigterm.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RUNTIME_DATABASE_URL": runtime_database_url(database_url),
        "CREDENTIALS_KEY": TEST_CREDENTIALS_KEY,
        "ALPACA_CHAT_HOME": str(tmp_path / "home"),
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--sandbox"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--sandbox-port", str(sandbox_port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,  # the demo keys; the log is stderr
            stderr=log,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", database_url, log_path, process)
    try:
        _wait_until_healthy(process, server.url)
        token = signed_up_user(server, "shutdown@example.com")
        asyncio.run(_sigterm_with_a_subscription(server, token))
        assert process.wait(timeout=30) == 0
    finally:
        server.stop()
    text = log_path.read_text()
    assert "Traceback" not in text and "CancelledError" not in text, text
    assert "Shutting down" in text, "uvicorn's own lines reach the configured log"
