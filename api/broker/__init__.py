"""The only place in the product that talks to Alpaca (decision 2 in docs/architecture.md).

Create one ``BrokerGateway(settings, vault)`` per process and call its async
methods with an ``AccountRef`` (the broker's view of a stored account, read by
``api.accounts``); results are the frozen dataclasses of ``api.broker.models``,
failures a ``BrokerError`` with a code. Nothing outside this package imports
alpaca-py, and nothing inside it touches the database.
"""

from api.broker.errors import BrokerError, ErrorCode
from api.broker.gateway import BrokerGateway
from api.broker.http import Timeouts
from api.broker.models import (
    AccountRef,
    BrokerAsset,
    BrokerConfiguration,
    BrokerOrder,
    BrokerPosition,
    BrokerQuote,
    Clock,
    Environment,
    OrderRequest,
    ReplaceRequest,
    Snapshot,
    Verification,
)
from api.broker.submission import NotSent, Placed, Refused, Submission, Unconfirmed
from api.broker.transport import RetryPolicy

__all__ = [
    "AccountRef",
    "BrokerAsset",
    "BrokerConfiguration",
    "BrokerError",
    "BrokerGateway",
    "BrokerOrder",
    "BrokerPosition",
    "BrokerQuote",
    "Clock",
    "Environment",
    "ErrorCode",
    "NotSent",
    "OrderRequest",
    "Placed",
    "Refused",
    "ReplaceRequest",
    "RetryPolicy",
    "Snapshot",
    "Submission",
    "Timeouts",
    "Unconfirmed",
    "Verification",
]
