"""A subscription event's `next` frame, encoded once for every socket that gets it (RT-01).

The executor shares an event's result among the subscribers that asked the same
document with the same variables (execution.py). Strawberry then sends each of
them a graphql-transport-ws `next` message whose payload holds that very `data`
object, and encoding it per socket was most of what remained per subscriber of
the budget in docs/architecture.md#performance-budget. Here the encoded `data` is
kept by identity for the latest few results, and each socket's frame is that
text inside its own operation id: byte for byte what encoding the whole message
gives. A payload with errors or extensions is encoded as it is, every time: it
is never shared (execution.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

# Results of the latest events of the latest subscriptions; each entry holds its
# `data` object, so an id is never reused while it is a key here.
RECENT_RESULTS = 256


class SharedFrames:
    """Text frames of graphql-transport-ws messages, `next` data encoded once per result."""

    def __init__(self, size: int = RECENT_RESULTS) -> None:
        self._size = size
        self._texts: dict[int, tuple[object, str]] = {}

    def encode(self, message: Mapping[str, object]) -> str:
        payload = message.get("payload")
        operation_id = message.get("id")
        if (
            message.get("type") != "next"
            or not isinstance(operation_id, str)
            or not isinstance(payload, dict)
            or payload.keys() != {"data"}
            or message.keys() != {"id", "type", "payload"}
        ):
            return orjson.dumps(message).decode()
        data = payload["data"]
        kept = self._texts.get(id(data))
        if kept is not None and kept[0] is data:
            text = kept[1]
        else:
            text = orjson.dumps(data).decode()
            if len(self._texts) >= self._size:
                del self._texts[next(iter(self._texts))]  # the oldest
            self._texts[id(data)] = (data, text)
        head = orjson.dumps(operation_id).decode()
        return f'{{"id":{head},"type":"next","payload":{{"data":{text}}}}}'

    def __len__(self) -> int:
        return len(self._texts)
