"""OPS-01: servers sharing one home share its embedded PostgreSQL, and the last one out
stops it, even when another was killed with SIGKILL and never let go of it.

Two `alpaca-chat serve` processes on one ALPACA_CHAT_HOME (no DATABASE_URL); the
first is killed with -9, the second stopped with SIGTERM. Before, the killed
process's pid stayed in the embedded server's handle file, so the survivor's
clean stop left PostgreSQL running.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil

from tests.fixtures.server import launch_server


def _postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def test_ops01_the_survivor_stops_postgres_after_its_peer_was_killed(
    embedded_home: Path,
) -> None:
    first = launch_server("", embedded_home, {"DATABASE_URL": ""})
    second = None
    try:
        second = launch_server("", embedded_home, {"DATABASE_URL": ""})
        postmaster = _postmaster_pid(embedded_home)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        assert psutil.pid_exists(postmaster), "the survivor still needs its PostgreSQL"
        second.stop()
        assert second.process.returncode == 0, second.log_text()[-2000:]
        deadline = time.monotonic() + 10
        while psutil.pid_exists(postmaster) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not psutil.pid_exists(postmaster), "the embedded PostgreSQL was left running"
        assert not (embedded_home / "pgdata" / "postmaster.pid").exists()
    finally:
        first.stop()
        if second is not None:
            second.stop()
        if (embedded_home / "pgdata" / "postmaster.pid").exists():
            os.kill(_postmaster_pid(embedded_home), signal.SIGTERM)  # not left for others
