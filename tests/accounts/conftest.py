"""One sandbox-trading server for all the account tests.

None of these tests needs an empty install or a clean rate-limit state, and
starting a server costs seconds: `trading_server` is shared by the package,
`make_trader("alice@example.com")` signs up a user no other test has
(`alice-<n>@example.com`), and a test that reads the database looks only at
its own users' rows. (About a dozen sign-ups in all: well under the limit of
20 per client address in 10 minutes.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fixtures.postgres import Cluster
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.server import RunningServer
from tests.fixtures.trading import Trader, serve_shared_trading, unique_traders


@pytest.fixture(scope="package")
def trading_server(
    pg_cluster: Cluster, sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    yield from serve_shared_trading(pg_cluster, sandbox, tmp_path_factory.mktemp("accounts"))


@pytest.fixture
def make_trader(
    trading_server: RunningServer, sandbox: SandboxHandle, known_secrets: set
) -> Callable[[str], Trader]:
    return unique_traders(trading_server, sandbox, known_secrets)
