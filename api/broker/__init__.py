"""The only place in the product that talks to Alpaca (decision 2 in DESIGN.md).

Create one ``BrokerGateway(settings, vault, database)`` per process and call its
async methods with an ``AccountRef``; results are the frozen dataclasses of
``api.broker.models``, failures a ``BrokerError`` with a code. Nothing outside
this package imports alpaca-py.
"""

from api.broker.accounts import load_account_ref
from api.broker.errors import BrokerError, ErrorCode
from api.broker.gateway import BrokerGateway, RetryPolicy
from api.broker.http import Timeouts
from api.broker.models import (
    AccountRef,
    Asset,
    Clock,
    Environment,
    Order,
    OrderRequest,
    Position,
    Quote,
    Snapshot,
    Verification,
)

__all__ = [
    "AccountRef",
    "Asset",
    "BrokerError",
    "BrokerGateway",
    "Clock",
    "Environment",
    "ErrorCode",
    "Order",
    "OrderRequest",
    "Position",
    "Quote",
    "RetryPolicy",
    "Snapshot",
    "Timeouts",
    "Verification",
    "load_account_ref",
]
