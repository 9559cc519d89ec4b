"""The in-process app with push on, its push service the tests' stand-in on 127.0.0.1.

`push_app` is the `app` fixture of tests/fixtures/inprocess.py with VAPID set and
the test-only loopback flag on (tests/fixtures/push.py: PUSH_ENV), plus the stand-in
push service it sends to (`push_app.push`). `strict_push_app` has push on without
the loopback flag: endpoints are checked exactly as in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.config import load_settings
from api.db import Database
from api.services import Services
from tests.fixtures.inprocess import BASE_URL, InProcessApp
from tests.fixtures.log_audit import KnownSecrets
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY
from tests.fixtures.push import (
    PUSH_ENV,
    VAPID_TEST_KEY,
    StandInPushService,
    stand_in_push_service,
)
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.trading import broker_env


@dataclass
class PushApp:
    app: InProcessApp
    push: StandInPushService


MakePushApp = Callable[..., AbstractAsyncContextManager[PushApp]]


@pytest.fixture
def make_push_app(
    database_url: str,
    db: Database,
    tmp_path: Path,
    sandbox: SandboxHandle,
    known_secrets: KnownSecrets,
) -> MakePushApp:
    @asynccontextmanager
    async def make(*, loopback: bool = True) -> AsyncIterator[PushApp]:
        env = {
            "DATABASE_URL": database_url,
            "ALPACA_CHAT_HOME": str(tmp_path / "home"),
            "CREDENTIALS_KEY": TEST_CREDENTIALS_KEY,
            **broker_env(sandbox),
            **PUSH_ENV,
        }
        if not loopback:
            del env["PUSH_ALLOW_LOOPBACK"]
        # CRED-03: the VAPID private key never reaches a log (the run-wide audit)
        known_secrets.update(
            line for line in VAPID_TEST_KEY.splitlines() if not line.startswith("-----")
        )
        services = Services.build(load_settings(env), db)
        application = create_app(services)
        transport = httpx.ASGITransport(app=application)
        async with (
            stand_in_push_service() as push,
            application.router.lifespan_context(application),
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
        ):
            yield PushApp(InProcessApp(services, application, client, sandbox, known_secrets), push)

    return make


@pytest.fixture
async def push_app(make_push_app: MakePushApp) -> AsyncIterator[PushApp]:
    async with make_push_app() as made:
        yield made


@pytest.fixture
async def strict_push_app(make_push_app: MakePushApp) -> AsyncIterator[PushApp]:
    async with make_push_app(loopback=False) as made:
        yield made
