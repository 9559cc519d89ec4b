"""accountUpdates over graphql-transport-ws: each event run, encoded and written once per group.

Subscribers of one account that sent the same document with the same
variables are one group. The group holds one stream of the account's events
(`Feeds.account_events`); for each event it runs the document once (graphql-
core's public `execute_subscription_event`, the executor Strawberry would
use), encodes the `next` payload once, and writes that same text, inside
each subscriber's own operation id, straight to every subscriber's socket.
Nothing per subscriber runs between the event and the write: no Strawberry
streaming, no per-event extension hooks, no task switch (RT-01, the fan-out
budget in docs/architecture.md#performance-budget).

What stays Strawberry's, per subscriber: parsing, validation, the guards,
permissions, the first result (the current snapshot), errors and completion.
The subscription's resolver (subscription.py) joins the group, yields the
snapshot through Strawberry, then waits in `Member.next_payload` for as long as
the subscription lasts, so the operation's life (its metrics, `complete` from
either side, the socket closing) is Strawberry's as before. An event whose
result has errors is handed to every subscriber's resolver instead, and
Strawberry executes, masks and sends it per subscriber.

Order and slow sockets: a subscriber is written to directly only while its
resolver waits with nothing pending. Until its snapshot has been sent, while
one of its frames is being finished, and while Strawberry sends it something,
frames wait in its backlog, which its own task then writes in order. A write
that cannot finish at once (a slow socket) is finished by that subscriber's own
task (eager.py), so the group never waits for one socket. A backlog longer
than `BACKLOG_LIMIT` is replaced by one ResyncEvent("overflow"): the client
refetches, as with the bus's own queues (api/realtime/queues.py).

Isolation: a group is keyed by the account's owner and id as resolved for the
subscriber (ISO-03); every member is that owner's. A member belongs to its
session: when the bus hears the session revoked, the member ends at once and
its backlog is dropped, before any later event is written (AUTH-03). Sharing
one execution is safe because the event types read no context (types.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from inspect import isawaitable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from graphql import Executor, GraphQLError, execute_subscription_event, parse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry import Schema

from api.accounts import Account
from api.live.feeds import AccountUpdate as FeedUpdate
from api.live.feeds import Feeds
from api.realtime.bus import EventBus
from api.realtime.events import account_key
from api.realtime.queues import OVERFLOW
from schema.realtime.eager import Unfinished, run_until_suspended
from schema.realtime.types import AccountUpdate, account_update

if TYPE_CHECKING:
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
        Operation,
    )

log = logging.getLogger(__name__)

# frames one subscriber may have waiting before it is told to resync instead
BACKLOG_LIMIT = 128

GroupKey = tuple[object, str, str | None, bytes]


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where an operation's frames go: its handler (socket, live operations) and its id."""

    fanout: Fanout
    handler: BaseGraphQLTransportWSHandler[Any, Any]
    operation_id: str

    @property
    def operation(self) -> Operation[Any, Any] | None:
        """The operation, while the client has not completed it."""
        return self.handler.operations.get(self.operation_id)

    async def join(self, context: object, user_id: UUID, session_id: UUID, account_id: UUID | None
    ) -> Member:  # fmt: skip
        """Membership of the group for this operation's document and account; `leave` it."""
        return await self.fanout.join(self, context, user_id, session_id, account_id)

    def leave(self, member: Member) -> None:
        self.fanout.leave(member)


_DELIVERY: ContextVar[Delivery | None] = ContextVar("fanout_delivery", default=None)


@contextlib.contextmanager
def delivering(delivery: Delivery) -> Iterator[None]:
    """Around the handling of a subscribe message: the operation's task, created meanwhile,
    sees `delivery` (a task copies the context variables of the task that creates it), so
    nothing is added to the task itself."""
    token = _DELIVERY.set(delivery)
    try:
        yield
    finally:
        _DELIVERY.reset(token)


def current_delivery() -> Delivery | None:
    """The graphql-transport-ws operation this task runs, or None (not over a socket)."""
    delivery = _DELIVERY.get()
    return delivery if delivery is not None and delivery.operation is not None else None


class Member:
    """One subscription in a group: its socket, its operation id, its backlog."""

    __slots__ = (
        "_backlog",
        "_direct",
        "_head",
        "_id",
        "_operation",
        "_operations",
        "_stalled",
        "_wake",
        "_websocket",
        "ended",
        "group",
        "session_id",
    )

    def __init__(
        self, group: Group, delivery: Delivery, operation: Operation[Any, Any], session_id: UUID
    ) -> None:
        self.group = group
        self._websocket: WebSocket = delivery.handler.websocket.ws  # type: ignore[attr-defined]
        self._operations = delivery.handler.operations
        self._operation = operation
        self._id = delivery.operation_id
        self._head = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":'
        self._backlog: list[str | AccountUpdate] = []
        self._direct = False  # written to by the group: only while next_payload waits idle
        self._stalled: Unfinished | None = None
        self._wake: asyncio.Future[None] | None = None
        self.ended = False
        self.session_id = session_id

    async def snapshot(self) -> AccountUpdate:
        """The account's current balances, the subscription's first result."""
        account = self.group.account
        return account_update(account.id, await self.group.feeds.current_snapshot(account))

    # --- the group's side -----------------------------------------------------------

    def deliver(self, payload: AccountUpdate, text: str | None) -> None:
        """An event: its encoded `next` payload, or None when Strawberry must send it."""
        if self.ended:
            return
        if text is not None and self._direct:
            self._write_now(text)
        else:
            self._queue(text if text is not None else payload)

    def _write_now(self, text: str) -> None:
        if not self._is_current():
            return
        rest = run_until_suspended(self._send(text))
        if rest is not None:  # a slow socket: its own task finishes the write
            self._direct = False
            self._stalled = rest
            self._wake_up()

    def _queue(self, item: str | AccountUpdate) -> None:
        self._direct = False
        backlog = self._backlog
        if len(backlog) >= self.group.fanout.backlog_limit:
            backlog.clear()
            backlog.append(self.group.overflow)
        backlog.append(item)
        self._wake_up()

    def end(self) -> None:
        """No more events: what waits is dropped, and the resolver returns."""
        self.ended = True
        self._backlog.clear()
        if self._stalled is not None:
            self._stalled.close()
            self._stalled = None
        self._wake_up()

    # --- the subscriber's own task ----------------------------------------------------

    async def next_payload(self) -> AccountUpdate | None:
        """Write what waits for this subscriber; the next event Strawberry must send, or
        None once the subscription has ended."""
        while not self.ended:
            if self._stalled is not None:
                stalled, self._stalled = self._stalled, None
                await stalled
            elif self._backlog:
                item = self._backlog.pop(0)
                if not isinstance(item, str):
                    return item
                if self._is_current():
                    await self._send(item)
            else:
                self._direct = True
                self._wake = asyncio.get_running_loop().create_future()
                try:
                    await self._wake
                finally:
                    self._wake = None
        return None

    # ---------------------------------------------------------------------------------

    async def _send(self, text: str) -> None:
        if self._websocket.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await self._websocket.send_text(self._head + text + "}")
        except (WebSocketDisconnect, RuntimeError) as gone:
            # the client went while the frame was on its way: its handler ends the operation
            log.debug("fan-out: operation %s lost its socket (%s)", self._id, gone)

    def _is_current(self) -> bool:
        """The client still takes this operation's frames (it has not completed it)."""
        return self._operations.get(self._id) is self._operation

    def _wake_up(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)


class Group:
    """The subscribers of one account with one document and variables, and its event loop."""

    def __init__(self, fanout: Fanout, key: GroupKey, account: Account, executor: Executor) -> None:
        self.fanout = fanout
        self._key = key
        self.account = account
        self.feeds = fanout.feeds
        self._executor = executor
        self.members: set[Member] = set()
        self.overflow = account_update(account.id, OVERFLOW)
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        self._task = asyncio.create_task(self._run(), name="fanout-group")

    async def _run(self) -> None:
        try:
            async with self.feeds.account_events(self.account) as updates:
                self.ready.set()
                async for update in updates:
                    await self._deliver(update)
        except Exception as error:
            self.failure = error
            log.exception("fan-out: the account's event stream failed")
        finally:
            self.ready.set()
            self.fanout.forget(self)
            for member in tuple(self.members):
                member.end()

    async def _deliver(self, update: FeedUpdate) -> None:
        payload = account_update(self.account.id, update)
        members = tuple(self.members)  # who was listening when it happened
        text = await self._encoded(payload)
        for member in members:
            member.deliver(payload, text)

    async def _encoded(self, payload: AccountUpdate) -> str | None:
        """The `next` payload's text, or None when the result has errors (see module)."""
        result = execute_subscription_event(self._executor.build_per_event_executor(payload))
        if isawaitable(result):
            result = await result
        if result.errors:
            return None
        return orjson.dumps({"data": result.data}).decode()

    def close(self) -> None:
        self._task.cancel()

    @property
    def key(self) -> GroupKey:
        return self._key


class Fanout:
    """The groups of one process's /graphql endpoint; hears revoked sessions from the bus."""

    def __init__(self, schema: Schema, feeds: Feeds, bus: EventBus) -> None:
        self._schema = schema
        self.feeds = feeds
        self.backlog_limit = BACKLOG_LIMIT
        self._groups: dict[GroupKey, Group] = {}
        self._by_session: dict[UUID, set[Member]] = {}
        bus.watch_sessions(self)

    async def join(
        self,
        delivery: Delivery,
        context: object,
        user_id: UUID,
        session_id: UUID,
        account_id: UUID | None,
    ) -> Member:
        account = await self.feeds.resolve(user_id, account_id)  # NOT_FOUND unless owned
        operation = delivery.operation
        if operation is None:  # completed by the client meanwhile: this task is cancelled
            raise asyncio.CancelledError
        variables = operation.variables or {}
        key: GroupKey = (
            account_key(account.owner_id, account.id),
            operation.query,
            operation.operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
        )
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(
                self, key, account, self._executor(operation, context, variables)
            )
        member = Member(group, delivery, operation, session_id)
        group.members.add(member)
        self._by_session.setdefault(session_id, set()).add(member)
        try:
            await group.ready.wait()  # listening before the snapshot is read: nothing slips
        except BaseException:
            self.leave(member)
            raise
        if group.failure is not None:
            self.leave(member)
            raise group.failure
        return member

    def _executor(self, operation: Operation[Any, Any], context: object, variables: dict[str, Any]
    ) -> Executor:  # fmt: skip
        """The executor Strawberry builds for this subscription, for the group's events.

        The document already passed validation for the member that opens the group.
        """
        built = self._schema.execution_context_class.build(
            self._schema._schema,
            parse(operation.query),
            context_value=context,
            raw_variable_values=variables,
            operation_name=operation.operation_name,
        )
        if not isinstance(built, Executor):
            raise GraphQLError(built[0].message)  # unreachable: the same variables passed
        return built

    def leave(self, member: Member) -> None:
        member.end()
        group = member.group
        group.members.discard(member)
        members = self._by_session.get(member.session_id)
        if members is not None:
            members.discard(member)
            if not members:
                del self._by_session[member.session_id]
        if not group.members and self._groups.get(group.key) is group:
            del self._groups[group.key]
            group.close()

    def forget(self, group: Group) -> None:
        if self._groups.get(group.key) is group:
            del self._groups[group.key]

    # --- api.realtime.bus.SessionWatcher ------------------------------------------------

    def session_revoked(self, session_id: UUID) -> None:
        for member in self._by_session.pop(session_id, ()):
            member.end()

    def bus_reconnected(self) -> None:
        """Nothing to do: each group's own stream hears the reconnect's resync."""

    @property
    def groups(self) -> int:
        return len(self._groups)
