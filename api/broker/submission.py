"""What became of one order sent to the broker, told plainly so placement can decide (TRADE-05).

The gateway sends an order body once and never retries it. Whether the order
exists afterwards is one of four things, and only the caller that owns the
audit and the client order id (``api.trading.placement``) may act on it:
``Placed`` (the broker took it and said so), ``Refused`` (it answered and did
not take it), ``NotSent`` (no connection was made, so it cannot have seen the
order) or ``Unconfirmed`` (it may have taken it: a timeout, a dropped
connection, a 5xx, an unreadable answer, or a client order id it already
had); then only its record for that client order id can tell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.broker import parse
from api.broker.errors import BrokerError, rate_limited, rejected, unavailable
from api.broker.http import Answer, Failure, Outcome
from api.broker.models import BrokerOrder

_UNIQUE_ID = re.compile(r"client[ _]order[ _]id.*unique", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Placed:
    order: BrokerOrder


@dataclass(frozen=True, slots=True)
class Refused:
    """The broker answered and did not take the order; ``error`` says why, for the person."""

    error: BrokerError


@dataclass(frozen=True, slots=True)
class NotSent:
    error: BrokerError


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """The order may exist; ``reason`` says why nobody can tell without asking."""

    reason: str


Submission = Placed | Refused | NotSent | Unconfirmed


def submission(sent: Outcome) -> Submission:
    """Classify the outcome of one order POST."""
    if not isinstance(sent, Answer):
        if sent.failure is Failure.NOT_SENT:
            return NotSent(unavailable("cannot reach the broker; the order was not sent"))
        return Unconfirmed(f"the order's answer {sent.failure.value}")
    if sent.ok:
        try:
            return Placed(parse.parsed(lambda: parse.order(sent.body)))
        except BrokerError:
            return Unconfirmed("the broker's answer could not be read")
    message = sent.message()
    if sent.status == 422 and _UNIQUE_ID.search(message):
        return Unconfirmed("the broker already had this client order id")
    if sent.status == 429:
        return Refused(rate_limited(sent.retry_after))
    if 400 <= sent.status < 500:
        return Refused(rejected(message, sent.status))
    # A 5xx (or anything odd): the broker may or may not have taken the order.
    return Unconfirmed(f"the broker answered {sent.status}: {message}")
