"""Documents parsed, limited and validated once per process, for `/graphql`'s fast path.

Strawberry runs parsing and validation through per-request extension hooks
even when both are cached. For a document we have already accepted, this
module answers with the parsed operation in one dictionary lookup, so the
endpoint (schema/endpoint.py) can hand it straight to graphql-core.

A document is only ever "prepared" after passing exactly the checks the
Strawberry path applies, with the same limits: parsed with `MAX_TOKENS`, its
field selections counted (schema/cost.py) before it is validated with
graphql-core's specified rules, our cost rules (depth, aliases) and
Strawberry's own rules. Anything else (a syntax or validation error, too many
fields, an ambiguous or unknown operation name, a subscription, introspection,
whose answer depends on who asks: schema/guards.py) is not prepared, and the
endpoint leaves the request to Strawberry, which reports it exactly as before.
Both answers are cached (bounded LRU), so a client repeating a bad document
costs one lookup here, as it does in Strawberry's own caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    specified_rules,
)

from schema import AppSchema, cost_rules, limits
from schema.cost import selection_cost_error
from schema.guards import asks_for_introspection, validate_document


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """A valid document and the one query or mutation a request selects in it."""

    document: DocumentNode
    operation: OperationDefinitionNode
    # the name graphql-core is told to run (None for a lone anonymous operation)
    operation_name: str | None


class PreparedDocuments:
    """Valid documents by (query text, operation name); None for "let Strawberry answer"."""

    def __init__(self, schema: AppSchema, maxsize: int = limits.PREPARED_DOCUMENTS) -> None:
        self._schema = schema
        # the same rules, in the same order, as the extensions in schema/__init__.py give
        self._rules = (*specified_rules, *cost_rules())
        # as schema/guards.py validates it, so an invalid document is validated once (cached)
        self._hide_suggestions = schema.config.disable_field_suggestions
        self.get = lru_cache(maxsize=maxsize)(self._prepare)

    def _prepare(self, query: str, operation_name: str | None) -> PreparedOperation | None:
        try:
            document = parse(query, max_tokens=limits.MAX_TOKENS)
        except GraphQLError:
            return None
        # Strawberry reads the operation type before validating; an unknown name or
        # several anonymous operations are its errors (HTTP 400) to report.
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation not in _FAST_OPERATIONS:
            return None
        # counted before validating: what validation costs is bounded first (schema/cost.py)
        if selection_cost_error(document) is not None or asks_for_introspection(document):
            return None
        # `_schema` is the GraphQLSchema Strawberry built; schema/guards.py passes the same
        if validate_document(self._schema._schema, document, self._rules, self._hide_suggestions):
            return None
        return PreparedOperation(document, operation, operation_name)


# Subscriptions over HTTP are Strawberry's to refuse or stream.
_FAST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
