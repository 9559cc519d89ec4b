"""The one schema extension every operation runs through, over HTTP and WebSocket alike.

Strawberry builds every extension anew for each operation and wraps each of its
hooks in a context manager of its own, so six small extensions (token limit,
validation rules, parsing, guards, error masking, metrics) cost more than many
requests they guard. `RequestPipeline` does what they did with one instance and
one hook, and everything that depends on the document alone is worked out once
per document text (schema/trusted.py, schema/guards.py). As the operation starts,
on_operation hands Strawberry what it would parse and validate:
- the checked document of the query text (a trusted one as loaded), or none when
  the text does not parse, which Strawberry then parses itself, with the token
  limit as MaxTokensLimiter would set it, to report the error as a result;
- the refusals that depend on the request, then validation's errors, known once
  per document; validation with our rules (what AddValidationRules would add) is
  never left to Strawberry.
As it ends: MaskErrors' masking (schema/errors.py) and the operation's metrics
(schema/metrics.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.types.graphql import OperationType

from schema import limits
from schema.errors import CodedErrors
from schema.guards import VALIDATION_RULES, request_refusal
from schema.metrics import operation_answered, subscription_ended, subscription_started
from schema.trusted import Documents


class RequestPipeline(CodedErrors):
    """Parsing, guards, validation, masking and metrics of one operation (module docstring)."""

    def __init__(self, documents: Documents, *, production: bool) -> None:
        super().__init__()
        self._documents = documents
        self._production = production
        self._executes = False
        self._subscribed = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self._check()
        try:
            yield from super().on_operation()
        finally:
            if self._subscribed:
                subscription_ended()
            else:
                operation_answered(
                    self.execution_context, time.perf_counter() - started, executed=self._executes
                )

    def _check(self) -> None:
        """The document and its errors, handed to Strawberry before it would parse and
        validate: it then does neither (pinned by tests/test_internals.py)."""
        context = self.execution_context
        checked = None
        if context.query is not None:
            with contextlib.suppress(GraphQLError):
                checked = self._documents.get(context.query)
        if checked is None:
            # Strawberry parses the text itself, to report its syntax error as a result
            context.parse_options["max_tokens"] = limits.MAX_TOKENS
            return
        context.graphql_document = checked.document
        try:
            operation_type = context.operation_type
        except RuntimeError:  # no such operation: Strawberry refuses it before validation
            return
        request = getattr(context.context, "request", None)
        refusal = request_refusal(
            checked,
            # Strawberry's `operation_name` falls back to the first operation's name;
            # what the client sent is kept here (pinned by tests/test_internals.py)
            operation_name=context._provided_operation_name,
            operation_type=operation_type,
            over_websocket=isinstance(request, WebSocket),
            signed_in=getattr(context.context, "principal", None) is not None,
            production=self._production,
        )
        errors = (
            [refusal]
            if refusal is not None
            else checked.validation_errors(context.schema._schema, self._production)
        )
        # validation with our rules is never left to Strawberry
        context.validation_rules = VALIDATION_RULES
        context.pre_execution_errors = errors
        # no errors, and an operation type this transport allows: Strawberry executes it
        self._executes = not errors and operation_type in context.allowed_operations
        if self._executes and operation_type is OperationType.SUBSCRIPTION:
            subscription_started()
            self._subscribed = True
