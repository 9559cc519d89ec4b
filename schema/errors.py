"""Every GraphQL error leaves with `extensions.code`; unexpected ones leave masked.

Expected failures are `api.errors.AppError` (graphql-core copies their
`extensions`), permission refusals (UNAUTHENTICATED) and errors in the
document itself (parse, validation, variables), which get a code here.
Anything else raised while resolving a field is a bug: the client sees
"Internal error" with INTERNAL_SERVER_ERROR and the request id, and the
server log gets the traceback under that id (see `AppSchema.process_errors`).
"""

from __future__ import annotations

import logging

from graphql import GraphQLError, GraphQLSyntaxError, VariableDefinitionNode
from strawberry.extensions import MaskErrors

from api.db.outage import is_outage
from api.errors import AppError, ErrorCode, ServiceUnavailable

log = logging.getLogger("alpaca_chat.graphql")

INTERNAL_MESSAGE = "Internal error"


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors raised while resolving that are neither AppErrors nor coded."""
    if isinstance(error.original_error, AppError):
        return False
    if error.extensions and "code" in error.extensions:
        return False
    if is_outage(error.original_error):
        return False
    return error.path is not None


def outage_error(error: GraphQLError) -> GraphQLError:
    """A database outage as SERVICE_UNAVAILABLE: the person is told, nothing else leaves.

    The database's own log line (api/db/outage.py) is the operators' record, once per
    outage, so no traceback is logged per request.
    """
    unavailable = ServiceUnavailable(
        "The service is unavailable right now (its database cannot be reached or cannot "
        "write); nothing was changed and no order was sent. Try again shortly."
    )
    return GraphQLError(
        unavailable.message,
        nodes=error.nodes,
        path=error.path,
        original_error=unavailable,
        extensions=unavailable.extensions,
    )


def code_for_document_error(error: GraphQLError) -> ErrorCode:
    """The code of an error in the request rather than in a resolver.

    Validation errors arrive coded (schema/guards.py). Of the rest, graphql-core
    locates a variable value that does not fit its type (or a required one left
    out) at the variable's definition: that is the client's input, not its document
    (tests/test_internals.py pins where graphql-core puts them).
    """
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.nodes and all(isinstance(node, VariableDefinitionNode) for node in error.nodes):
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def request_id_of(context: object) -> str | None:
    return getattr(context, "request_id", None)


class CodedErrors(MaskErrors):
    """MaskErrors that also codes what it keeps and stamps the request id on what it hides."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {
            "code": ErrorCode.INTERNAL_SERVER_ERROR.value,
            "requestId": request_id_of(self.execution_context.context),
        }
        return masked

    def _process_result(self, result: object) -> None:
        # MaskErrors tests `result` against a runtime-checkable Protocol, which costs
        # more than the rest of this for an answer without errors, on every request and
        # on every subscription event of every subscriber; the same test, directly:
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        errors = [outage_error(e) if is_outage(e.original_error) else e for e in errors]
        processed = super()._process_errors(errors)
        for error in processed:
            if error.extensions is None:
                error.extensions = {}
            if "code" not in error.extensions:
                error.extensions["code"] = code_for_document_error(error).value
        return processed


def log_errors(errors: list[GraphQLError], context: object) -> None:
    """Unexpected errors with their traceback and request id; expected ones quietly."""
    request_id = request_id_of(context)
    for error in errors:
        if is_unexpected(error):
            log.error(
                "request %s: unexpected error in %s",
                request_id,
                ".".join(map(str, error.path or ())),
                exc_info=error.original_error or error,
            )
        else:
            log.debug("request %s: %s", request_id, error.message)
