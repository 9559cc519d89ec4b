"""The event vocabulary carried by PostgreSQL NOTIFY, and its wire format.

Every server process listens on one channel
(docs/architecture.md#decision-3-events-travel-through-postgresql), so the
payloads are small JSON objects: ids, a kind, and only as much data as the
receiver cannot cheaply re-read. Snapshots and order events carry their fields
because 10,000 subscribers re-reading from the broker for every event would
cost far more than the ~1 KiB they add to a notification; everything else
carries ids only. PostgreSQL refuses payloads of 8000 bytes or more, so
`encode` checks the size before anything reaches the database.

Each event names the routing key it is delivered to (`key`). Account keys
include the owner's id as well as the account's: a subscription can only ever
match events whose publisher said they belong to that owner, a second lock
behind the GraphQL layer's ownership check (ISO-03).

`ResyncEvent` is local only: the bus puts it into a subscriber's queue when
that subscriber may have missed events (the listening connection was lost, or
its queue overflowed). It is never published.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson

from api.broker.models import BrokerOrder

CHANNEL = "alpaca_chat_events"
# PostgreSQL: "the payload must be shorter than 8000 bytes" (in the server encoding).
MAX_PAYLOAD_BYTES = 7999
WIRE_VERSION = 1

Key = tuple[str, UUID] | tuple[str, UUID, UUID]


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def account_key(owner_id: UUID | str, account_id: UUID | str) -> Key:
    """Snapshots, order events and position changes of one account of one owner."""
    return ("account", _uuid(owner_id), _uuid(account_id))


def owner_key(owner_id: UUID | str) -> Key:
    """Events about a user rather than one account (active account, removals)."""
    return ("owner", _uuid(owner_id))


class EventTooLarge(ValueError):
    """The encoded event would not fit in one NOTIFY payload."""


class EventDecodeError(ValueError):
    """A payload on our channel that this server cannot read (corrupt or a newer format)."""


@dataclass(frozen=True, slots=True)
class SnapshotEvent:
    """Balances of one account (DISP-02, DISP-03); newer snapshots replace older ones."""

    kind: ClassVar[str] = "snapshot"
    coalesce: ClassVar[bool] = True
    droppable: ClassVar[bool] = True

    account_id: UUID
    owner_id: UUID
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    portfolio_value: Decimal
    last_equity: Decimal
    currency: str
    status: str
    as_of: datetime
    trading_blocked: bool
    pattern_day_trader: bool

    @classmethod
    def of(cls, account_id: UUID, owner_id: UUID, snapshot: Any) -> SnapshotEvent:
        """From the gateway's `Snapshot` (or anything with the same attribute names)."""
        names = [f.name for f in dataclasses.fields(cls)][2:]
        return cls(account_id, owner_id, *(getattr(snapshot, name) for name in names))

    @property
    def key(self) -> Key:
        return account_key(self.owner_id, self.account_id)


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One trade update (RT-01): `event` is Alpaca's name (new, fill, partial_fill, canceled …).

    Never dropped by a queue: a subscriber that cannot keep up gets a resync.
    `price`/`qty` are the execution's, present on fills.
    """

    kind: ClassVar[str] = "order"
    coalesce: ClassVar[bool] = False
    droppable: ClassVar[bool] = False

    account_id: UUID
    owner_id: UUID
    event: str
    order: BrokerOrder
    at: datetime | None = None
    price: Decimal | None = None
    qty: Decimal | None = None

    @property
    def key(self) -> Key:
        return account_key(self.owner_id, self.account_id)


@dataclass(frozen=True, slots=True)
class PositionsChangedEvent:
    """The account's positions changed: the receiver re-reads them."""

    kind: ClassVar[str] = "positions_changed"
    coalesce: ClassVar[bool] = True
    droppable: ClassVar[bool] = False

    account_id: UUID
    owner_id: UUID

    @property
    def key(self) -> Key:
        return account_key(self.owner_id, self.account_id)


@dataclass(frozen=True, slots=True)
class OrdersMissedEvent:
    """Order changes of one account went by that the stream's owner cannot list one by one
    (too many since they were last reported): its subscribers get a resync and refetch."""

    kind: ClassVar[str] = "orders_missed"
    coalesce: ClassVar[bool] = True
    droppable: ClassVar[bool] = False

    account_id: UUID
    owner_id: UUID

    @property
    def key(self) -> Key:
        return account_key(self.owner_id, self.account_id)


@dataclass(frozen=True, slots=True)
class ActiveAccountChangedEvent:
    """The user picked another active account, or none (ACCT-03)."""

    kind: ClassVar[str] = "active_account_changed"
    coalesce: ClassVar[bool] = True
    droppable: ClassVar[bool] = False

    owner_id: UUID
    account_id: UUID | None

    @property
    def key(self) -> Key:
        return owner_key(self.owner_id)


@dataclass(frozen=True, slots=True)
class AccountRemovedEvent:
    """An account was removed (ACCT-05): the bus ends its subscriptions, tells the owner."""

    kind: ClassVar[str] = "account_removed"
    coalesce: ClassVar[bool] = False
    droppable: ClassVar[bool] = False

    account_id: UUID
    owner_id: UUID

    @property
    def key(self) -> Key:
        return owner_key(self.owner_id)


@dataclass(frozen=True, slots=True)
class SessionRevokedEvent:
    """A session was signed out (AUTH-03): every subscription opened with it ends."""

    kind: ClassVar[str] = "session_revoked"
    coalesce: ClassVar[bool] = False
    droppable: ClassVar[bool] = False

    session_id: UUID
    owner_id: UUID

    @property
    def key(self) -> None:
        # Not delivered to anyone: the bus closes the session's subscriptions instead.
        return None


ALERT_PROPOSAL_WAITING = "proposal_waiting"
ALERT_BROKER_KEYS_REFUSED = "broker_keys_refused"
ALERT_GUARD_REFUSED = "guard_refused"
ALERT_HALTED = "halted"


@dataclass(frozen=True, slots=True)
class AccountAlertEvent:
    """Something the owner should hear of with the app closed (PUSH-01).

    `alert` is one of the ALERT_* names: a live proposal waiting for confirmation
    (`proposal_id` and the order's `symbol`, `side`, `qty` or `notional`), the broker
    refusing the account's keys, a guard refusing an order (`guard`, `symbol`), a halt.
    `at` tells two alerts of the same kind apart. The push dispatcher hears every
    event (`EventBus.watch_events`); the account's subscribers get it too, and their
    feed turns refused keys into a resync that says so (DISP-04).
    """

    kind: ClassVar[str] = "account_alert"
    coalesce: ClassVar[bool] = False
    droppable: ClassVar[bool] = False

    account_id: UUID
    owner_id: UUID
    alert: str
    at: datetime
    proposal_id: UUID | None = None
    symbol: str | None = None
    side: str | None = None
    qty: Decimal | None = None
    notional: Decimal | None = None
    guard: str | None = None

    @property
    def key(self) -> Key:
        return account_key(self.owner_id, self.account_id)


@dataclass(frozen=True, slots=True)
class ResyncEvent:
    """Local only: this subscriber may have missed events and should refetch.

    `reason` is "reconnected" (the listening connection was re-established),
    "overflow" (the subscriber fell too far behind), "unavailable" (the
    database is out of reach: nothing is live until a "reconnected" follows) or
    "keys_refused" (the broker stopped accepting the account's keys: its figures
    are not live until the keys are replaced).
    """

    kind: ClassVar[str] = "resync"
    coalesce: ClassVar[bool] = True
    droppable: ClassVar[bool] = False

    reason: str


WireEvent = (
    SnapshotEvent
    | OrderEvent
    | PositionsChangedEvent
    | OrdersMissedEvent
    | ActiveAccountChangedEvent
    | AccountRemovedEvent
    | SessionRevokedEvent
    | AccountAlertEvent
)
Event = WireEvent | ResyncEvent

WIRE_TYPES: dict[str, type[WireEvent]] = {
    cls.kind: cls
    for cls in (
        SnapshotEvent,
        OrderEvent,
        PositionsChangedEvent,
        OrdersMissedEvent,
        ActiveAccountChangedEvent,
        AccountRemovedEvent,
        SessionRevokedEvent,
        AccountAlertEvent,
    )
}


def _default(value: object) -> str:
    # orjson writes UUID, datetime and dataclasses itself; money goes out as a string.
    if isinstance(value, Decimal | UUID):  # asyncpg's UUID subclass is not orjson's
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(event: WireEvent) -> str:
    """The NOTIFY payload for `event`; raises EventTooLarge at 8000 bytes or more."""
    if type(event).kind not in WIRE_TYPES:
        raise TypeError(f"{type(event).__name__} is local and never published")
    raw = orjson.dumps({"v": WIRE_VERSION, "kind": event.kind, "data": event}, default=_default)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise EventTooLarge(f"{event.kind} event is {len(raw)} bytes; NOTIFY allows 7999")
    return raw.decode()


Decoder = Callable[[Any], Any]


def _exact(kind: type) -> Decoder:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise TypeError("money is a string on the wire")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError("money must be finite")
    return result


def _optional(inner: Decoder) -> Decoder:
    return lambda value: None if value is None else inner(value)


def _decoder_for(annotation: Any) -> Decoder:
    args = get_args(annotation)
    if args and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return _optional(_decoder_for(inner))
    if annotation is UUID:
        return lambda value: UUID(_exact(str)(value))
    if annotation is Decimal:
        return _decimal
    if annotation is datetime:
        return lambda value: datetime.fromisoformat(_exact(str)(value))
    if annotation in (str, bool, int):
        return _exact(annotation)
    if dataclasses.is_dataclass(annotation):
        return _dataclass_decoder(annotation)  # type: ignore[arg-type]
    if get_origin(annotation) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple_decoder(args[0])
    raise TypeError(f"no wire decoder for {annotation!r}")


def _tuple_decoder(item: Any) -> Decoder:
    """A tuple of `item`s; the item decoder is built on first use, so a type that holds
    tuples of itself (an order's legs are orders) needs no endless recursion."""
    built: list[Decoder] = []

    def decode_items(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise TypeError("expected a list")
        if not built:
            built.append(_decoder_for(item))
        return tuple(built[0](v) for v in value)

    return decode_items


def _dataclass_decoder(cls: type) -> Decoder:
    hints = get_type_hints(cls)
    fields = [(f.name, _decoder_for(hints[f.name])) for f in dataclasses.fields(cls)]
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }

    def decode_fields(data: Any) -> Any:
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} must be an object")
        missing = required - data.keys()
        if missing:
            raise KeyError(f"{cls.__name__} lacks {sorted(missing)}")
        return cls(**{name: convert(data[name]) for name, convert in fields if name in data})

    return decode_fields


# Built once at import: decoding runs once per notification per process.
_DECODERS: dict[str, Decoder] = {kind: _dataclass_decoder(cls) for kind, cls in WIRE_TYPES.items()}


def decode(payload: str) -> WireEvent:
    """Parse a payload written by `encode`; raises EventDecodeError for anything else."""
    try:
        message = orjson.loads(payload)
        if message.get("v") != WIRE_VERSION:
            raise ValueError(f"wire version {message.get('v')!r}")
        return _DECODERS[message["kind"]](message["data"])  # type: ignore[no-any-return]
    except (
        orjson.JSONDecodeError,
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
        InvalidOperation,
    ) as exc:
        raise EventDecodeError(f"unreadable event payload: {exc}") from exc
