"""A shared event's `next` frame is encoded once and reads as the whole message would (RT-01).

schema/realtime/frames.py splices each socket's operation id around the `data` text it
encoded once; every frame must be byte for byte orjson's encoding of the message.
"""

from __future__ import annotations

from typing import Any

import orjson

from schema.realtime.frames import SharedFrames


def _next(operation_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": operation_id, "type": "next", "payload": payload}


def test_frames_read_as_the_whole_message_and_shared_data_is_encoded_once_RT_01() -> None:
    frames = SharedFrames(size=2)
    shared = {"accountUpdates": {"__typename": "SnapshotEvent", "cash": "1.5", "ñ": 'q"\\'}}
    messages = [
        _next("1", {"data": shared}),
        _next('weird "id" \u2028', {"data": shared}),
        _next("2", {"data": None}),
        _next("3", {"data": {"a": 1}, "errors": [{"message": "no"}]}),
        {"type": "connection_ack"},
        {"id": "4", "type": "complete"},
        {"id": "5", "type": "error", "payload": [{"message": "no"}]},
    ]
    for message in messages:
        assert frames.encode(message) == orjson.dumps(message).decode(), message
    # one entry for the shared data (sent twice) and one for None; errors are never kept
    assert len(frames) == 2


def test_the_oldest_result_makes_room_RT_01() -> None:
    frames = SharedFrames(size=2)
    results = [{"n": n} for n in range(3)]
    for data in results:
        frames.encode(_next("1", {"data": data}))
    assert len(frames) == 2
    assert frames.encode(_next("1", {"data": results[0]})) == '{"id":"1","type":"next",' + (
        '"payload":{"data":{"n":0}}}'
    )
