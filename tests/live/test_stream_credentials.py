"""CRED-02 for the trade-update stream, and the supervisor's own guarantees, in-process.

The server is a subprocess whose memory a test cannot search, so here the
supervisor runs inside the test's event loop with the production pieces (bus,
gateway, vault, advisory locks) against the sandbox and a real database. After
the stream has connected, been dropped and reconnected (two authentications,
each decrypting the keys), a search from everything the supervisor, the stream
and the libraries keep finds no plaintext key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from api.accounts import AccountService
from api.broker import BrokerGateway, OrderRequest
from api.config import Settings
from api.db import Database
from api.live.supervisor import StreamSupervisor
from api.realtime import EventBus, OrderEvent, account_key
from api.trading.placement import Placement
from api.vault import Vault
from tests.broker.helpers import sign_up, store_account
from tests.broker.test_credentials import holders_of
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged
from tests.live.conftest import stream_connections, wait_until

LIBRARIES = ("api.broker", "api.realtime", "alpaca", "websockets", "requests", "urllib3")


def _in_libraries(module: object) -> bool:
    return isinstance(module, str) and any(
        module == name or module.startswith(name + ".") for name in LIBRARIES
    )


def roots(*kept: Any) -> list[Any]:
    """What outlives an authentication: the given objects, library globals and instances."""
    gc.collect()
    found: list[Any] = list(kept)
    for name, module in list(sys.modules.items()):
        if _in_libraries(name) and module is not None:
            found.append(vars(module))
    found.extend(
        obj
        for obj in gc.get_objects()
        if _in_libraries(type(obj).__module__) and not isinstance(obj, type)
    )
    return found


@dataclasses.dataclass
class Running:
    supervisor: StreamSupervisor
    bus: EventBus
    accounts: AccountService
    gateway: BrokerGateway
    vault: Vault


@pytest.fixture
async def running(
    settings: Settings, sandbox: SandboxHandle, db: Database
) -> AsyncIterator[Running]:
    broker = dataclasses.replace(
        settings,
        paper_url=sandbox.paper_url,
        live_url=sandbox.live_url,
        data_url=sandbox.data_url,
        paper_stream_url=sandbox.paper_stream_url,
        live_stream_url=sandbox.live_stream_url,
        snapshot_interval=0.5,
    )
    vault = Vault([TEST_CREDENTIALS_KEY])
    gateway = BrokerGateway(broker, vault, max_workers=4)
    accounts = AccountService(db, vault, gateway)
    bus = EventBus(db)
    await bus.start()
    supervisor = StreamSupervisor(broker, vault, accounts, gateway, db, bus, linger=0.1)
    await supervisor.start()
    yield Running(supervisor, bus, accounts, gateway, vault)
    await supervisor.stop()
    await bus.stop()
    gateway.close()


async def test_cred02_no_plaintext_key_outlives_the_streams_authentication(
    running: Running, sandbox: SandboxHandle, db: Database
) -> None:
    """CRED-02: the stream authenticates on connect and on reconnect, decrypting each time,
    and neither the stream object nor anything else keeps the key id or secret."""
    minted = sandbox.mint_account("paper")
    owner = await sign_up(db)
    ref = await store_account(running.accounts, db, running.vault, owner, minted)
    number, secret, key_id = minted["account_number"], minted["secret_key"], minted["api_key_id"]
    supervisor = running.supervisor
    async with supervisor.interest(owner, ref.id):
        await wait_until(lambda: stream_connections(sandbox, number) == 1)
        stream = supervisor.stream_of(ref.id)
        assert stream is not None
        # the sandbox counts the connection first; the stream once it has read the answer
        await wait_until(lambda: stream.connects == 1)
        assert ref.id in supervisor.owned

        # The search finds a secret where one must never be, or it would prove nothing.
        stream._secret_key = secret
        assert holders_of(secret, roots(supervisor, stream))
        stream._secret_key = ""

        sandbox.set_faults(drop_streams=True)
        await wait_until(lambda: stream.connects == 2 and stream_connections(sandbox, number) == 1)

        kept = roots(supervisor, stream, running.gateway, running.bus)
        assert holders_of(secret, kept) == []
        assert holders_of(key_id, kept) == []
        assert stream._api_key == stream._secret_key == ""
    await wait_until(lambda: stream_connections(sandbox, number) == 0)
    await wait_until(lambda: supervisor.owned == frozenset())


async def test_rt03_the_last_subscriber_leaving_stops_the_stream_and_releases_the_lock(
    running: Running, sandbox: SandboxHandle, db: Database
) -> None:
    """RT-03: interest is counted; the stream runs while anyone holds it and stops, releasing
    the advisory lock, once the last one leaves."""
    minted = sandbox.mint_account("paper")
    owner = await sign_up(db)
    ref = await store_account(running.accounts, db, running.vault, owner, minted)
    number = minted["account_number"]
    supervisor = running.supervisor
    async with supervisor.interest(owner, ref.id):
        async with supervisor.interest(owner, ref.id):
            await wait_until(lambda: stream_connections(sandbox, number) == 1)
        await asyncio.sleep(0.3)  # longer than the linger: one holder is enough
        assert stream_connections(sandbox, number) == 1
        assert ref.id in supervisor.owned
    await wait_until(lambda: stream_connections(sandbox, number) == 0)
    await wait_until(lambda: ref.id not in supervisor.owned)


async def test_rt01_trade_updates_are_published_as_order_events(
    running: Running, sandbox: SandboxHandle, db: Database
) -> None:
    """RT-01: each trade update becomes an OrderEvent on the bus, with Decimal amounts."""
    minted = sandbox.mint_account("paper")
    owner = await sign_up(db)
    ref = await store_account(running.accounts, db, running.vault, owner, minted)
    supervisor = running.supervisor
    async with (
        supervisor.interest(owner, ref.id),
        running.bus.subscribe(account_key(owner, ref.id)) as events,
    ):
        await wait_until(lambda: stream_connections(sandbox, minted["account_number"]) == 1)
        placement = Placement(db, running.gateway)
        order = await placement.place(
            ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal(2)))
        )
        seen: list[OrderEvent] = []
        async for event in events:
            if isinstance(event, OrderEvent) and event.order.id == order.id:
                seen.append(event)
                if event.event == "fill":
                    break
    assert [e.event for e in seen] == ["new", "fill"]
    assert seen[-1].qty == Decimal(2) and isinstance(seen[-1].price, Decimal)
    assert seen[-1].owner_id == owner and seen[-1].account_id == ref.id
