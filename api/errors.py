"""Expected failures with a code the client can act on (docs/architecture.md, public contract).

Services in `api/` raise these; resolvers let them through untouched, and the
schema's error extension (schema/errors.py) copies `code` and the extra fields
into the GraphQL error's `extensions`. Anything that is not an `AppError` is a
bug: it reaches the client only as "Internal error" with a request id, so an
exception's text (which may carry SQL, a URL or a secret) never leaves the
server.

    raise BadUserInput("Nickname is already used", field="nickname")
    raise RateLimited(retry_after=42)          # extensions: code, retryAfter
    raise AppError(ErrorCode.BROKER_REJECTED, "Insufficient buying power", broker_code=40310000)

Extension keys are given in snake_case and sent in camelCase.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    BROKER_REJECTED = "BROKER_REJECTED"
    BROKER_UNAVAILABLE = "BROKER_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    PASSKEY_REQUIRED = "PASSKEY_REQUIRED"
    FORBIDDEN = "FORBIDDEN"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    ACCOUNT_HALTED = "ACCOUNT_HALTED"
    LLM_UNAVAILABLE = "LLM_UNAVAILABLE"
    # the database is out of reach or cannot write (down, restarting, disk full)
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # Not raised by services: the schema assigns these.
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # a request /graphql cannot take as sent (not a JSON object, a subscription over HTTP)
    BAD_REQUEST = "BAD_REQUEST"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class AppError(Exception):
    """An expected failure; `message` is shown to the user, so keep it plain and secret-free."""

    def __init__(self, code: ErrorCode, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # graphql-core copies an `extensions` dict of the original error onto the GraphQL error
        self.extensions: dict[str, Any] = {
            "code": code.value,
            **{_camel(k): v for k, v in extensions.items() if v is not None},
        }


class Unauthenticated(AppError):
    def __init__(self, message: str = "Sign in to do this") -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, message)


class NotFound(AppError):
    """Also for ids that belong to someone else: existence is never revealed."""

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class BadUserInput(AppError):
    def __init__(self, message: str, *, field: str | None = None, **extensions: Any) -> None:
        super().__init__(ErrorCode.BAD_USER_INPUT, message, field=field, **extensions)


class RateLimited(AppError):
    def __init__(self, retry_after: float, message: str = "Too many attempts, try again later"):
        super().__init__(
            ErrorCode.RATE_LIMITED, message, retry_after=max(1, math.ceil(retry_after))
        )


class ConfirmationRequired(AppError):
    def __init__(self, message: str, *, proposal: dict[str, Any]) -> None:
        super().__init__(ErrorCode.CONFIRMATION_REQUIRED, message, proposal=proposal)


class PasskeyRequired(AppError):
    """Approve this with a passkey (KEY-02): `options` are the assertion options to sign,
    in the standard JSON form; send the answer back as the mutation's `passkey`."""

    def __init__(self, message: str, *, options: dict[str, Any]) -> None:
        super().__init__(ErrorCode.PASSKEY_REQUIRED, message, options=options)


class Forbidden(AppError):
    """Signed in, but not allowed this now; `reason` says what would allow it."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, reason=reason)


class LimitExceeded(AppError):
    """An order refused by the owner's limits (RISK-01): which guard, limit and value."""

    def __init__(self, message: str, *, guard: str, limit: str, value: str) -> None:
        super().__init__(ErrorCode.LIMIT_EXCEEDED, message, guard=guard, limit=limit, value=value)


class AccountHalted(AppError):
    """The owner halted the account (RISK-04): no new orders until they resume it."""

    def __init__(self, message: str = "This account is halted: resume it to trade") -> None:
        super().__init__(ErrorCode.ACCOUNT_HALTED, message, guard="account_halted")


class ServiceUnavailable(AppError):
    """The server cannot do this now (its database is down or full); nothing was changed."""

    def __init__(
        self, message: str = "The service is unavailable right now; nothing was changed"
    ) -> None:
        super().__init__(ErrorCode.SERVICE_UNAVAILABLE, message)


class LlmUnavailable(AppError):
    def __init__(self, message: str = "The chat model is not reachable right now") -> None:
        super().__init__(ErrorCode.LLM_UNAVAILABLE, message)
