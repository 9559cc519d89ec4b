"""ADM-03: `alpaca-chat backup` while the server runs and writes, `alpaca-chat restore` into
an empty database (a fresh home: a new cluster without our roles), and the refusals."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import asyncpg

from api.db.embedded import EmbeddedPostgres
from tests.chat.conftest import HISTORY, ORDERS, SEND
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY, Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import (
    PASSWORD,
    REPO,
    StartServer,
    launch_server,
    signed_up_user,
)
from tests.fixtures.trading import PLACE_ORDER, Trader, broker_env

SIGN_IN = """mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token } }"""
ACCOUNTS = "{ accounts { id nickname keyHint } }"


def _cli(*args: str, home: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "RUNTIME_DATABASE_URL"}}
    env |= {"CREDENTIALS_KEY": TEST_CREDENTIALS_KEY, "ALPACA_CHAT_HOME": str(home)}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("alpaca-chat: ")]
    return line


class _Writer(threading.Thread):
    """Keeps chatting while the backup runs: the dump must be consistent under writes."""

    def __init__(self, trader: Trader, account_id: str) -> None:
        super().__init__(daemon=True)
        self.trader, self.account_id = trader, account_id
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        # at most 20 turns: the history's default page (50 messages) keeps the earlier ones
        while self.sent < 20 and not self.stop.wait(0.1):
            self.trader.data(SEND, {"text": "balance", "accountId": self.account_id})
            self.sent += 1


async def _audit_rows(home: Path) -> list[dict[str, Any]]:
    server = EmbeddedPostgres(home)  # the restored server's own cluster, still running
    try:
        conn = await asyncpg.connect(server.dsn())
        try:
            rows = await conn.fetch("select client_order_id, outcome from app.order_audit")
        finally:
            await conn.close()
    finally:
        server.stop()
    return [dict(row) for row in rows]


def test_backup_while_serving_restores_into_a_fresh_home(
    start_server: StartServer,
    database_url: str,
    sandbox: SandboxHandle,
    known_secrets: set[str],
    tmp_path: Path,
) -> None:
    """ADM-03: a dump taken while the server serves and writes restores into a new home
    (new cluster: the restore creates the roles) with the same CREDENTIALS_KEY; that
    server signs the user in (runtime role), decrypts the broker keys, and shows the
    accounts, the orders (audit rows) and the chat."""
    server = start_server(env=broker_env(sandbox))
    alice = Trader(server, sandbox, signed_up_user(server, "alice@example.com"), known_secrets)
    account = alice.add_account("Main")
    order = alice.data(
        PLACE_ORDER,
        {"input": {"accountId": account["id"], "symbol": "AAPL", "side": "BUY", "qty": "1"}},
    )["placeOrder"]
    alice.data(SEND, {"text": "positions", "accountId": account["id"]})

    writer = _Writer(alice, account["id"])
    writer.start()
    dump = tmp_path / "alpaca-chat.dump"
    try:
        result = _cli("backup", str(dump), home=tmp_path / "ops", database_url=database_url)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert writer.sent > 0, "the server kept writing during the backup"
    assert dump.stat().st_mode & 0o077 == 0, "the dump is readable by its owner only"

    # Outside pytest's temporary root: the cluster runs as another user, and a
    # concurrent pytest session resets that root to mode 0700.
    home = Path(tempfile.mkdtemp(prefix="acrestore-"))
    try:
        _restore_and_check(home, dump, sandbox, known_secrets, account, order)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _restore_and_check(
    home: Path,
    dump: Path,
    sandbox: SandboxHandle,
    known_secrets: set[str],
    account: dict[str, Any],
    order: dict[str, Any],
) -> None:
    result = _cli("restore", str(dump), home=home, database_url=None)
    assert result.returncode == 0, result.stderr

    restored = launch_server("", home, {**broker_env(sandbox), "DATABASE_URL": ""})
    try:
        token = restored.gql(SIGN_IN, {"email": "alice@example.com", "password": PASSWORD})
        again = Trader(restored, sandbox, token["data"]["signIn"]["token"], known_secrets)
        [restored_account] = again.data(ACCOUNTS)["accounts"]
        assert restored_account == {k: account[k] for k in ("id", "nickname", "keyHint")}
        orders = again.data(ORDERS, {"a": account["id"]})["orders"]  # keys decrypt: same key
        assert order["id"] in [o["id"] for o in orders]
        texts = [
            m["text"] for m in again.data(HISTORY, {"accountId": account["id"]})["chatHistory"]
        ]
        assert "positions" in texts
        audit = asyncio.run(_audit_rows(home))
        assert order["clientOrderId"] in [row["client_order_id"] for row in audit]
    finally:
        restored.stop()
    assert "Traceback" not in restored.log_text()


def test_restore_refuses_a_database_with_tables_unless_forced(
    pg_cluster: Cluster, database_url: str, tmp_path: Path
) -> None:
    """ADM-03: restore goes into an empty database; --force replaces the tables instead."""
    dump = tmp_path / "empty.dump"
    assert _cli("backup", str(dump), home=tmp_path, database_url=database_url).returncode == 0
    target = pg_cluster.create_database()  # migrated: it holds the app's tables
    try:
        refused = _cli("restore", str(dump), home=tmp_path, database_url=target)
        assert "already holds alpaca-chat tables" in _one_line_error(refused)

        forced = _cli("restore", "--force", str(dump), home=tmp_path, database_url=target)
        assert forced.returncode == 0, forced.stderr
    finally:
        pg_cluster.drop_database(target)


async def _record_future_migration(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "insert into public.migration (name, app_name, ran_on) "
            "values ('2999-01-01T00:00:00:000000', 'alpaca_chat', now())"
        )
    finally:
        await conn.close()


def test_restore_refuses_a_backup_of_a_newer_schema(
    pg_cluster: Cluster, database_url: str, tmp_path: Path
) -> None:
    """ADM-03: a dump that records a migration this code does not know is not restored."""
    asyncio.run(_record_future_migration(database_url))
    dump = tmp_path / "newer.dump"
    assert _cli("backup", str(dump), home=tmp_path, database_url=database_url).returncode == 0
    target = pg_cluster.create_database(template=None)  # empty
    try:
        refused = _cli("restore", str(dump), home=tmp_path, database_url=target)
        assert "newer alpaca-chat" in _one_line_error(refused)
        assert "2999-01-01T00:00:00:000000" in refused.stderr
    finally:
        pg_cluster.drop_database(target)


def test_unwritable_backup_target_is_one_line(database_url: str, tmp_path: Path) -> None:
    """ADM-03: a target that cannot be written ends with one line and a non-zero code."""
    target = tmp_path / "missing-folder" / "alpaca-chat.dump"
    line = _one_line_error(_cli("backup", str(target), home=tmp_path, database_url=database_url))
    assert line == f"alpaca-chat: cannot write {target}: No such file or directory"
    assert not target.parent.exists()


def test_restore_of_something_else_is_one_line(tmp_path: Path, database_url: str) -> None:
    """ADM-03: a file that is not a dump is refused in one line, nothing restored."""
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("not a backup\n")
    line = _one_line_error(
        _cli("restore", str(not_a_dump), home=tmp_path, database_url=database_url)
    )
    assert line.startswith(f"alpaca-chat: cannot read {not_a_dump} as a backup")
