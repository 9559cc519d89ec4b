"""OPS-03: `alpaca-chat serve --sandbox` runs offline and prints demo keys that work."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.log_audit import LOGS
from tests.fixtures.ports import free_port
from tests.fixtures.server import TLS, serve_env

KEY_LINE = re.compile(r"key_id=(\S+) secret=(\S+)")


def _graphql(port: int, query: str, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=headers, timeout=30
    )
    return response.json()


def test_serve_with_the_sandbox_prints_keys_that_work(tmp_path: Path, known_secrets: set) -> None:
    port, sandbox_port = free_port(), free_port()
    log_path = LOGS / "serve-sandbox.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--port",
                str(port),
                "--sandbox",
                "--sandbox-port",
                str(sandbox_port),
            ],
            env=serve_env(ALPACA_CHAT_HOME=str(tmp_path / "home")),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        keys = []
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if match := KEY_LINE.search(line):
                keys.append(match.groups())
                known_secrets.update(match.groups())
            if "sandbox ready" in line:
                break
        assert keys, "no demo keys were printed"
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, verify=TLS)
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)

        signed = _graphql(
            port,
            'mutation { signUp(email: "demo@example.com", password: "demo-password-1") { token } }',
        )
        token = signed["data"]["signUp"]["token"]
        key_id, secret = keys[0]
        added = _graphql(
            port,
            f'mutation {{ addAccount(input: {{nickname: "Demo", environment: PAPER, '
            f'apiKeyId: "{key_id}", secretKey: "{secret}"}}) '
            "{ nickname snapshot { cash buyingPower } } }",
            token,
        )
        assert "errors" not in added, added
        account = added["data"]["addAccount"]
        assert account["nickname"] == "Demo"
        assert float(account["snapshot"]["cash"]) > 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        process.stdout.close()
