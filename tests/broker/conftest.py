"""Gateway fixtures: a BrokerGateway pointed at the sandbox subprocess, over a real database.

Accounts are read by the accounts service and orders go through ``Placement``
(api.trading.placement), the one path by which an order leaves, so what these
tests assert about TRADE-05 is what the product does.

Timeouts are short (1 s read) so injected latency and "accept then time out"
faults take a second, not ten; everything else is the production code path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from api.accounts import AccountService
from api.broker import AccountRef, BrokerGateway, RetryPolicy, Timeouts
from api.config import Settings
from api.db import Database
from api.trading.placement import Placement
from api.vault import Vault
from tests.broker.helpers import sign_up, store_account
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY
from tests.fixtures.sandbox import SandboxHandle

READ_TIMEOUT = 1.0

MakeAccount = Callable[..., Awaitable[tuple[AccountRef, dict[str, Any]]]]


@pytest.fixture
def vault() -> Vault:
    return Vault([TEST_CREDENTIALS_KEY])


@pytest.fixture
def broker_settings(settings: Settings, sandbox: SandboxHandle) -> Settings:
    return dataclasses.replace(
        settings,
        paper_url=sandbox.paper_url,
        live_url=sandbox.live_url,
        data_url=sandbox.data_url,
    )


MakeGateway = Callable[..., BrokerGateway]


@pytest.fixture
def make_gateway(broker_settings: Settings, vault: Vault) -> Iterator[MakeGateway]:
    """Gateways as the app builds them; ``urls`` overrides Settings fields, ``retry`` the policy."""
    made: list[BrokerGateway] = []

    def make(retry: RetryPolicy | None = None, **urls: str) -> BrokerGateway:
        gateway = BrokerGateway(
            dataclasses.replace(broker_settings, **urls),
            vault,
            timeouts=Timeouts(connect=1.0, read=READ_TIMEOUT),
            retry=retry,
            max_workers=4,
        )
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make_gateway: MakeGateway) -> BrokerGateway:
    return make_gateway()


@pytest.fixture
def placement(db: Database, gateway: BrokerGateway) -> Placement:
    return Placement(db, gateway)


@pytest.fixture
def accounts(db: Database, vault: Vault, gateway: BrokerGateway) -> AccountService:
    return AccountService(db, vault, gateway)


@pytest.fixture
async def make_account(
    db: Database, vault: Vault, accounts: AccountService, sandbox: SandboxHandle
) -> MakeAccount:
    """Mint sandbox keys (registered with the log audit) and store them for a new user."""

    async def make(
        environment: str = "PAPER", owner_id: Any = None, **mint: Any
    ) -> tuple[AccountRef, dict[str, Any]]:
        minted = sandbox.mint_account(environment=environment.lower(), **mint)
        owner = owner_id or await sign_up(db)
        ref = await store_account(accounts, db, vault, owner, minted, environment=environment)
        return ref, minted

    return make


@pytest.fixture
async def paper(make_account: MakeAccount) -> tuple[AccountRef, dict[str, Any]]:
    return await make_account()
