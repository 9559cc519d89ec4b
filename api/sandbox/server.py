"""Running the sandbox under uvicorn, in-process, for the CLI and the start-up script.

``alpaca-chat sandbox`` and ``alpaca-chat serve --sandbox`` both call
``serve_sandbox``; ``python -m api.sandbox`` is a thin wrapper around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from api.sandbox.app import DEFAULT_SEED, create_sandbox_app, mint_demo_accounts


@dataclass(frozen=True, slots=True)
class SandboxStarted:
    """What a caller learns once the sandbox listens."""

    host: str
    port: int
    demo_accounts: list[dict[str, str]]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def paper_url(self) -> str:
        return f"{self.base_url}/paper"

    @property
    def live_url(self) -> str:
        return f"{self.base_url}/live"

    @property
    def data_url(self) -> str:
        return f"{self.base_url}/data"

    @property
    def paper_stream_url(self) -> str:
        return f"ws://{self.host}:{self.port}/paper/stream"

    @property
    def live_stream_url(self) -> str:
        return f"ws://{self.host}:{self.port}/live/stream"


async def serve_sandbox(
    host: str = "127.0.0.1",
    port: int = 8765,
    demo_accounts: int = 3,
    ready: asyncio.Event | None = None,
    *,
    seed: int = DEFAULT_SEED,
    tick_seconds: float = 1.0,
    on_start: Callable[[SandboxStarted], None] | None = None,
    log_level: str | None = "warning",
    log_config: dict[str, Any] | None = LOGGING_CONFIG,
) -> None:
    """Serve a fresh sandbox until cancelled, then shut it down gracefully.

    Once it listens, ``on_start`` receives the bound address (``port=0`` picks a
    free port) and the demo paper accounts, then ``ready`` is set. A caller
    that has configured logging itself passes ``log_config=None`` and
    ``log_level=None``: uvicorn's own configuration would replace the handlers
    (and their filters) and levels of the uvicorn loggers its server shares.
    """
    app = create_sandbox_app(seed=seed, tick_seconds=tick_seconds)
    demo = mint_demo_accounts(app, demo_accounts)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, log_config=log_config, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task  # surfaces a bind error
                raise RuntimeError("sandbox server stopped during start-up")
            await asyncio.sleep(0.02)
        bound_port = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        if on_start is not None:
            on_start(SandboxStarted(host, bound_port, demo))
        if ready is not None:
            ready.set()
        # shielded: cancelling us must not cancel uvicorn mid-lifespan (which logs a
        # CancelledError traceback), but ask it to exit, below
        await asyncio.shield(task)
    finally:
        server.should_exit = True
        if not task.done():
            await asyncio.wait({task}, timeout=5)
        task.cancel()  # a no-op once it has exited
