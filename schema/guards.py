"""Refusals decided on the parsed document, then validation itself, each once per document.

The request pipeline (schema/pipeline.py) takes the place of Strawberry's ValidationCache
with these, so they apply to every document Strawberry executes, over HTTP and WebSocket
alike. Before graphql-core validates anything a document is refused, with a coded error:
- when it selects too many fields (schema/cost.py): what validation would cost is
  bounded before validation runs;
- when it has several operations and the request names none in `operationName` (the
  GraphQL spec makes this an error; picking the first would run something the client
  did not name);
- when it is a subscription that did not arrive on a WebSocket (over HTTP it could only fail);
- in production (GRAPHIQL=false), when it asks for introspection (`__schema`, `__type`)
  and the client is not signed in: the schema is no map for strangers.
Then it is validated, in production with graphql-core's `hide_suggestions`, so no
"Did you mean ..." names a field, argument or enum value nobody asked about.

What depends only on the document (its cost, whether it asks for introspection, how
many operations it has, validation's errors) is computed once per parsed document and
kept with it (`CheckedDocument`); only the refusals that depend on the request are
decided per request. A trusted document (schema/trusted.py) is checked and validated
when it is loaded.
"""

from __future__ import annotations

from functools import cached_property

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    specified_rules,
    validate,
)
from graphql.language import Visitor, visit
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from api.errors import ErrorCode
from schema import limits
from schema.cost import selection_cost_error

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_VALIDATION_FAILED = ErrorCode.GRAPHQL_VALIDATION_FAILED.value


# Made once: graphql-core's rules, then the depth and alias limits, as Strawberry's
# AddValidationRules would add them.
COST_RULES: tuple[type[ASTValidationRule], ...] = (
    *QueryDepthLimiter(max_depth=limits.MAX_QUERY_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=limits.MAX_ALIASES).validation_rules,
)
VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (*specified_rules, *COST_RULES)


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


class CheckedDocument:
    """A parsed document with what is known of it alone, each worked out at most once."""

    def __init__(self, document: DocumentNode) -> None:
        self.document = document
        self.cost_refusal = selection_cost_error(document)
        self.operations = sum(
            isinstance(definition, OperationDefinitionNode) for definition in document.definitions
        )
        self._validation_errors: list[GraphQLError] | None = None

    @cached_property
    def introspects(self) -> bool:
        """Asks for `__schema` or `__type`: visited only when it matters (production)."""
        return asks_for_introspection(self.document)

    def validation_errors(
        self, schema: GraphQLSchema, hide_suggestions: bool
    ) -> list[GraphQLError]:
        """Validation's errors; a document is checked by one schema only, with one setting."""
        if self._validation_errors is None:
            self._validation_errors = validate_document(
                schema, self.document, VALIDATION_RULES, hide_suggestions
            )
        return self._validation_errors


def request_refusal(
    checked: CheckedDocument,
    *,
    operation_name: str | None,
    operation_type: OperationType,
    over_websocket: bool,
    signed_in: bool,
    production: bool,
) -> GraphQLError | None:
    """Why this document may not run for this request, before validation (module docstring)."""
    if checked.cost_refusal is not None:
        return checked.cost_refusal
    if operation_name is None and checked.operations > 1:
        return _refusal(
            "The document has several operations: name the one to run in operationName",
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
        )
    if operation_type is OperationType.SUBSCRIPTION and not over_websocket:
        return _refusal(
            "Subscriptions need a WebSocket (graphql-transport-ws) on /graphql",
            ErrorCode.BAD_REQUEST,
        )
    if production and not signed_in and checked.introspects:
        return _refusal(
            "Introspection is only answered to signed-in clients",
            ErrorCode.GRAPHQL_VALIDATION_FAILED,
        )
    return None
