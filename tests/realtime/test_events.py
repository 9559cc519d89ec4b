"""The wire format: every event survives a round trip and fits in one NOTIFY (RT-01, RT-02)."""

from __future__ import annotations

import dataclasses
from uuid import uuid4

import orjson
import pytest

from api.realtime import (
    AccountRemovedEvent,
    ActiveAccountChangedEvent,
    EventTooLarge,
    PositionsChangedEvent,
    ResyncEvent,
    SessionRevokedEvent,
    account_key,
    owner_key,
)
from api.realtime.events import MAX_PAYLOAD_BYTES, EventDecodeError, decode, encode
from tests.realtime.factories import order_event, order_fields, snapshot


def test_every_published_kind_round_trips() -> None:
    owner, account = uuid4(), uuid4()
    events = [
        snapshot(owner, account, "1234.56"),
        order_event(owner, account, event="partial_fill"),
        PositionsChangedEvent(account, owner),
        ActiveAccountChangedEvent(owner, account),
        ActiveAccountChangedEvent(owner, None),
        AccountRemovedEvent(account, owner),
        SessionRevokedEvent(uuid4(), owner),
    ]
    for event in events:
        assert decode(encode(event)) == event


def test_money_travels_as_strings_never_floats() -> None:
    event = snapshot(uuid4(), uuid4(), "0.10")
    data = orjson.loads(encode(event))["data"]
    assert data["cash"] == "0.10"
    data["cash"] = 0.1
    with pytest.raises(EventDecodeError):
        decode(orjson.dumps({"v": 1, "kind": "snapshot", "data": data}).decode())


def test_an_order_event_with_the_largest_fields_alpaca_allows_fits_in_one_notify() -> None:
    fields = dataclasses.replace(
        order_fields(), client_order_id="c" * 128, symbol="X" * 32, asset_class="us_option"
    )
    event = dataclasses.replace(order_event(uuid4(), uuid4()), order=fields)
    assert len(encode(event).encode()) < 2000 < MAX_PAYLOAD_BYTES


def test_an_event_too_large_for_notify_is_refused_before_it_reaches_postgresql() -> None:
    fields = dataclasses.replace(order_fields(), client_order_id="c" * 8000)
    with pytest.raises(EventTooLarge):
        encode(dataclasses.replace(order_event(uuid4(), uuid4()), order=fields))


def test_resync_is_local_and_never_published() -> None:
    with pytest.raises(TypeError):
        encode(ResyncEvent("overflow"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        '{"v": 2, "kind": "snapshot", "data": {}}',
        '{"v": 1, "kind": "mystery", "data": {}}',
        '{"v": 1, "kind": "positions_changed", "data": {"account_id": "x", "owner_id": "y"}}',
        '{"v": 1, "kind": "positions_changed", "data": {"account_id": "' + str(uuid4()) + '"}}',
    ],
)
def test_unreadable_payloads_are_rejected(payload: str) -> None:
    with pytest.raises(EventDecodeError):
        decode(payload)


def test_iso03_account_events_are_keyed_by_owner_as_well_as_account() -> None:
    owner, other, account = uuid4(), uuid4(), uuid4()
    event = snapshot(owner, account)
    assert event.key == account_key(owner, account) == account_key(str(owner), str(account))
    assert event.key != account_key(other, account)
    assert ActiveAccountChangedEvent(owner, None).key == owner_key(owner)
