"""Browser fixtures for the PWA tests (MOB-01..04): Debian's Chromium driven by
Playwright against the real server, whose broker is the sandbox.

- `browser` (package): one Chromium for all PWA tests. Its binary is
  CHROMIUM_PATH, else the system's /usr/bin/chromium, else Playwright's own;
  with none the tests FAIL and say how to install one (never a silent skip).
  Package- rather than session-scoped on purpose: Playwright's sync API marks
  its event loop as running in the main thread between calls, so no
  `asyncio.run` (database fixtures) and no async test of another package may
  run while it lives. Database set-up here therefore runs in a worker thread.
- `pwa_server` (module): one server on its own fresh database for all PWA tests
  that do not need an empty install (`package_server`, its first user the inviter
  and admin), reached by each module from a loopback address of its own; each
  module signs up its own users (starting a server costs more than a second of CPU).
- `fresh_server` (function): a server on a fresh database, for tests that need
  an empty install (the first user signs up without an invite).
- `viewport` / `context` / `page`: per-test browser contexts, parametrized over
  a phone (390x844, touch, mobile) and a desktop (1280x800). Uncaught page
  errors fail the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.fixtures.chromium import LAUNCH_ARGS
from tests.fixtures.chromium import chromium_executable as find_chromium
from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer, launch_server, serve_shared
from tests.fixtures.trading import broker_env
from tests.pwa.helpers import VIEWPORTS, Seeded, Viewport, new_context, seed_user

T = TypeVar("T")


def chromium_executable(playwright: Playwright, *, shows_notifications: bool = False) -> str:
    """CHROMIUM_PATH, then the system's Chromium, then Playwright's download
    (tests/fixtures/chromium.py)."""
    return find_chromium(
        playwright.chromium.executable_path, shows_notifications=shows_notifications
    )


def launched(playwright: Playwright, executable: str) -> Iterator[Browser]:
    """`executable` started with the tests' flags, for a fixture to yield; closed after."""
    browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
    yield browser
    browser.close()


def off_thread(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a worker thread, where asyncio.run() is allowed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="package")
def playwright(pg_cluster: Cluster, sandbox: SandboxHandle) -> Iterator[Playwright]:
    # pg_cluster and sandbox first: their set-up needs a thread without Playwright's loop
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def chromium_path(playwright: Playwright) -> str:
    return chromium_executable(playwright)


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    yield from launched(playwright, chromium_path)


def _start(cluster: Cluster, sandbox: SandboxHandle, home: Path) -> tuple[RunningServer, str]:
    database_url = off_thread(cluster.create_database)
    try:
        return launch_server(database_url, home, broker_env(sandbox)), database_url
    except BaseException:
        off_thread(cluster.drop_database, database_url)
        raise


@pytest.fixture(scope="package")
def package_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One server (sandbox broker, fresh database) for the PWA tests of this process, its
    first user (the inviter, so the admin) signed up before any test."""
    database_url = off_thread(pg_cluster.create_database)
    try:
        yield from serve_shared(database_url, tmp_path_factory.mktemp("home"), broker_env(sandbox))
    finally:
        off_thread(pg_cluster.drop_database, database_url)


_module_addresses = itertools.count(2)


@pytest.fixture(scope="module")
def pwa_server(package_server: RunningServer) -> RunningServer:
    """The package's server as one module's people reach it: from a loopback address of
    the module's own, since AUTH-02 allows 20 sign-ups per address in 10 minutes. Each
    module signs up its own users and looks only at what they made."""
    return replace(package_server, client_address=f"127.0.0.{next(_module_addresses)}")


@pytest.fixture
def fresh_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path: Path
) -> Iterator[RunningServer]:
    """A server on an empty install, for this test alone."""
    running, database_url = _start(pg_cluster, sandbox, tmp_path / "home")
    yield running
    running.stop()
    off_thread(pg_cluster.drop_database, database_url)


@pytest.fixture(params=sorted(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> Viewport:
    return VIEWPORTS[request.param]


@pytest.fixture
def context(browser: Browser, viewport: Viewport) -> Iterator[BrowserContext]:
    created = new_context(browser, viewport)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def chat_user(
    request: pytest.FixtureRequest,
    pwa_server: RunningServer,
    sandbox: SandboxHandle,
    viewport: Viewport,
) -> Seeded:
    """A user of the shared server whose paper account is active; one per module and size."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    user = seed_user(pwa_server, sandbox, f"{module}-{viewport.name}@example.com")
    user.activate(user.paper_id)
    return user
