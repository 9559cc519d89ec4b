"""Refusals decided on the parsed document, then validation itself (cached).

`DocumentGuards` takes the place of Strawberry's ValidationCache extension, so
it runs for every document Strawberry executes, over HTTP and WebSocket alike.
Before graphql-core validates anything it refuses, with a coded error:
- a document selecting too many fields (schema/cost.py): what validation would
  cost is bounded before validation runs;
- several operations and no `operationName` (the GraphQL spec makes this an
  error; picking the first would run something the client did not name);
- a subscription that did not arrive on a WebSocket (over HTTP it could only fail);
- in production (GRAPHIQL=false), introspection (`__schema`, `__type`) from a client
  that is not signed in: the schema is no map for strangers.
Then it validates, in production with graphql-core's `hide_suggestions`, so no
"Did you mean ..." names a field, argument or enum value nobody asked about.
A trusted document (schema/trusted.py) passed the cost check, the introspection
check and validation when it was loaded: only the refusals that depend on the
request (operation name, transport) are decided for it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    validate,
)
from graphql.language import Visitor, visit
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from api.errors import ErrorCode
from schema import limits
from schema.cost import selection_cost_error

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_VALIDATION_FAILED = ErrorCode.GRAPHQL_VALIDATION_FAILED.value


@lru_cache(maxsize=limits.VALIDATION_CACHE_SIZE)
def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """graphql-core's validation with `rules` and the two rules Strawberry adds itself;
    its errors coded here, where they are known to be validation errors (schema/errors.py)."""
    errors = validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=hide_suggestions,
    )
    for error in errors:
        error.extensions = {**(error.extensions or {}), "code": _VALIDATION_FAILED}
    return errors


class _FindsIntrospection(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_args: object) -> object:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True
            return Visitor.BREAK
        return None


def asks_for_introspection(document: DocumentNode) -> bool:
    """True when any operation or fragment selects `__schema` or `__type`."""
    finder = _FindsIntrospection()
    visit(document, finder)
    return finder.found


def _refusal(message: str, code: ErrorCode) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code.value})


def document_refusal(
    document: DocumentNode,
    *,
    operation_name: str | None,
    operation_type: OperationType,
    over_websocket: bool,
    signed_in: bool,
    production: bool,
    trusted: bool = False,
) -> GraphQLError | None:
    """Why this document may not run here, or None (see the module docstring)."""
    if not trusted and (error := selection_cost_error(document)) is not None:
        return error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) > 1:
        return _refusal(
            "The document has several operations: name the one to run in operationName",
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
        )
    if operation_type is OperationType.SUBSCRIPTION and not over_websocket:
        return _refusal(
            "Subscriptions need a WebSocket (graphql-transport-ws) on /graphql",
            ErrorCode.BAD_REQUEST,
        )
    if production and not signed_in and not trusted and asks_for_introspection(document):
        return _refusal(
            "Introspection is only answered to signed-in clients",
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
        )
    return None


class DocumentGuards(SchemaExtension):
    """The refusals above, then cached validation (replaces Strawberry's ValidationCache);
    `is_trusted` tells the documents validated at start-up (schema/trusted.py)."""

    def __init__(self, *, production: bool, is_trusted: Callable[[DocumentNode], bool]) -> None:
        super().__init__()
        self._production = production
        self._is_trusted = is_trusted

    def on_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        document = execution_context.graphql_document
        assert document is not None  # parsed: Strawberry validates only what it parsed
        context = execution_context.context
        trusted = self._is_trusted(document)
        refusal = document_refusal(
            document,
            # Strawberry's `operation_name` falls back to the first operation's name;
            # what the client sent is kept here (pinned by tests/test_internals.py)
            operation_name=execution_context._provided_operation_name,
            operation_type=execution_context.operation_type,
            over_websocket=isinstance(getattr(context, "request", None), WebSocket),
            signed_in=getattr(context, "principal", None) is not None,
            production=self._production,
            trusted=trusted,
        )
        if refusal is not None:
            execution_context.pre_execution_errors = [refusal]
        elif trusted:
            execution_context.pre_execution_errors = []  # validated once, when loaded
        else:
            execution_context.pre_execution_errors = validate_document(
                execution_context.schema._schema,
                document,
                execution_context.validation_rules,
                self._production,
            )
        yield
