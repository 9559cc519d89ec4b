"""OPS-01, OPS-02: the server starts on an empty home with its own PostgreSQL, and
bad configuration stops it with one clear line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from api.db.ledger import known_migrations
from tests.fixtures.log_audit import LOGS
from tests.fixtures.ports import free_port
from tests.fixtures.server import TLS, serve_env


def _serve_once(home: Path, log_name: str) -> float:
    port = free_port()
    log = (LOGS / log_name).open("w")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=serve_env(ALPACA_CHAT_HOME=str(home)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, verify=TLS)
                break
            except httpx.TransportError:
                assert process.poll() is None, "server exited during start-up"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        ready = time.perf_counter() - started
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        log.close()
    return ready


def test_serve_on_an_empty_home_then_reuse_it(tmp_path: Path) -> None:
    """OPS-01: start, answer /healthz, stop cleanly; a second start reuses the data."""
    home = tmp_path / "home"
    _serve_once(home, "serve-first.log")
    key_file = home / "credentials.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    assert "created a development credentials key" in (LOGS / "serve-first.log").read_text()
    _serve_once(home, "serve-second.log")
    assert key_file.read_text() == key
    second = (LOGS / "serve-second.log").read_text()
    assert "applied migration" not in second
    assert "created a development credentials key" not in second
    pids = subprocess.run(
        ["pgrep", "-f", f"postgres -D {home / 'pgdata'}"], capture_output=True, check=False
    )
    assert pids.stdout == b"", "the embedded PostgreSQL was left running"


def _fails(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", *(args or ("serve",))],
        env=serve_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stderr


def test_malformed_credentials_key_stops_start_up(tmp_path: Path) -> None:
    """OPS-02: a malformed key is one line, no traceback, non-zero exit."""
    code, err = _fails({"CREDENTIALS_KEY": "not-a-key", "ALPACA_CHAT_HOME": str(tmp_path)})
    assert code != 0
    assert "CREDENTIALS_KEY" in err and "Traceback" not in err
    assert err.strip().count("\n") == 0


def test_database_url_needs_a_credentials_key(tmp_path: Path) -> None:
    code, err = _fails({"DATABASE_URL": "postgresql://u@127.0.0.1:1/x"})
    assert code != 0
    assert "CREDENTIALS_KEY is required with DATABASE_URL" in err
    assert "Traceback" not in err


def test_unreachable_database_url_is_one_line(tmp_path: Path) -> None:
    """OPS-02: an unreachable DATABASE_URL exits non-zero with one line."""
    code, err = _fails(
        {
            "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none",
            "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        }
    )
    assert code != 0
    last = err.strip().splitlines()[-1]
    assert last.startswith("alpaca-chat: cannot reach the database")
    assert "Traceback" not in err


def test_serving_a_database_url_needs_the_runtime_roles_own_login(database_url: str) -> None:
    """OPS-02, CRED-04: with DATABASE_URL (the owner), `serve` needs RUNTIME_DATABASE_URL,
    and it must log in as the runtime role itself (the owner's login is refused)."""
    env = {"DATABASE_URL": database_url, "CREDENTIALS_KEY": Fernet.generate_key().decode()}
    for runtime, says in (
        ({}, "RUNTIME_DATABASE_URL is required with DATABASE_URL"),
        ({"RUNTIME_DATABASE_URL": database_url}, "RUNTIME_DATABASE_URL must log in as"),
    ):
        code, err = _fails({**env, **runtime})
        assert code != 0
        last = err.strip().splitlines()[-1]
        assert last.startswith("alpaca-chat: " + says), err
        assert "Traceback" not in err


def test_migrate_command_applies_and_rolls_back(database_url: str) -> None:
    """OPS-02: `alpaca-chat migrate` against DATABASE_URL, and a working backwards step."""
    env = {"DATABASE_URL": database_url, "CREDENTIALS_KEY": Fernet.generate_key().decode()}
    every = sorted(known_migrations())
    code, err = _fails(env, "migrate", "--rollback", str(len(every)))
    assert code == 0, err
    for migration_id in every:
        assert f"rolled back migration {migration_id}" in err
    code, err = _fails(env, "migrate")
    assert code == 0, err
    assert "applied migration 2026-11-25T18:40:49:000000" in err
