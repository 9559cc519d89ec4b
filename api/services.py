"""The composition root: every service of a process, built once over an opened database.

The command line (or a test) reads the settings and opens the database; this
module wires the services together in the one order the layers allow, and
starts and stops the ones that run in the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from api.accounts import AccountService
from api.auth import AuthService
from api.auth.passkeys import PasskeyService
from api.auth.relying_party import relying_party
from api.auth.security_log import SecurityLogPruner
from api.broker import BrokerGateway
from api.chat import ChatEngine
from api.chat.service import ChatService
from api.config import Settings
from api.db import Database
from api.live.feeds import Feeds
from api.live.supervisor import StreamSupervisor
from api.markets import MarketService
from api.notify import NotifyService
from api.realtime.bus import EventBus
from api.trading import TradingService
from api.trading.reconcile import OrderReconciler
from api.trading.risk import RiskService
from api.vault import Vault


@dataclass
class Services:
    """Everything a request may use, built once per process over an opened database."""

    settings: Settings
    database: Database
    vault: Vault
    gateway: BrokerGateway
    bus: EventBus
    streams: StreamSupervisor
    feeds: Feeds
    accounts: AccountService
    trading: TradingService
    markets: MarketService
    risk: RiskService
    chat: ChatService
    auth: AuthService
    notify: NotifyService
    reconciler: OrderReconciler
    security_log: SecurityLogPruner

    @classmethod
    def build(cls, settings: Settings, database: Database) -> Services:
        vault = Vault(settings.credentials_keys)
        gateway = BrokerGateway(settings, vault)
        accounts = AccountService(database, vault, gateway)
        passkeys = PasskeyService(database, relying_party(settings.public_origin))
        trading = TradingService(
            database,
            gateway,
            accounts,
            passkeys,
            price_check_percent=Decimal(str(settings.price_check_percent)),
        )
        markets = MarketService(gateway)
        engine = ChatEngine.from_settings(settings)
        chat = ChatService(database, accounts, trading, gateway, engine, markets)
        bus = EventBus(database)
        streams = StreamSupervisor(settings, vault, accounts, gateway, database, bus)
        return cls(
            settings=settings,
            database=database,
            vault=vault,
            gateway=gateway,
            bus=bus,
            streams=streams,
            feeds=Feeds(accounts, bus, streams),
            accounts=accounts,
            trading=trading,
            markets=markets,
            risk=RiskService(database, gateway, accounts, trading, passkeys),
            chat=chat,
            auth=AuthService(database, bus, passkeys),
            notify=NotifyService.from_settings(settings, database, bus, streams),
            reconciler=OrderReconciler(
                database, gateway, accounts, every=settings.order_reconcile_seconds
            ),
            security_log=SecurityLogPruner(database, days=settings.security_log_days),
        )

    async def start(self) -> None:
        await self.bus.start()
        await self.streams.start()
        await self.auth.start()
        await self.notify.start()
        await self.reconciler.start()
        await self.security_log.start()

    async def stop(self) -> None:
        await self.security_log.stop()
        await self.reconciler.stop()
        await self.notify.stop()
        await self.auth.stop()
        # Streams first: they publish through the pool and release their locks.
        await self.streams.stop()
        await self.bus.stop()
        self.gateway.close()
