"""The one object that holds a sandbox app's state.

Routes reach the engine, prices, stream hub and faults through
``request.app.state.sandbox`` rather than module globals, so several sandboxes
(for instance one per test) can live in one process without sharing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from api.sandbox.clock import MarketClock
from api.sandbox.engine import Broker
from api.sandbox.faults import FaultInjector
from api.sandbox.prices import PriceBook
from api.sandbox.stream import StreamHub


@dataclass(slots=True)
class Sandbox:
    broker: Broker
    prices: PriceBook
    hub: StreamHub
    faults: FaultInjector
    tick_seconds: float

    @classmethod
    def build(cls, seed: int, tick_seconds: float) -> Sandbox:
        prices = PriceBook(seed)
        broker = Broker(prices, MarketClock())
        hub = StreamHub()
        broker.orders.subscribe(hub.publish)
        return cls(broker, prices, hub, FaultInjector(seed), tick_seconds)

    def stats(self) -> dict[str, dict[str, int | str]]:
        return {
            number: {
                "environment": account.environment,
                "orders_received": account.orders_received,
                "orders": len(account.orders),
                "stream_connections": self.hub.count(number),
                "rest_calls": account.rest_calls,
            }
            for number, account in self.broker.accounts.by_number.items()
        }


def sandbox_of(connection: HTTPConnection) -> Sandbox:
    sandbox: Sandbox = connection.app.state.sandbox
    return sandbox
