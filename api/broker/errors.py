"""The gateway's one exception, with a code the GraphQL layer maps to ``extensions.code``.

Whatever goes wrong between us and Alpaca ends as a ``BrokerError`` whose code
says what the caller can do about it: fix the input (BAD_USER_INPUT), accept the
broker's refusal (BROKER_REJECTED), wait (RATE_LIMITED, with ``retry_after``) or
try again later (BROKER_UNAVAILABLE). Messages are written for the person at the
screen; they never contain request headers, keys or a raw traceback.
"""

from __future__ import annotations

import math

from api.errors import AppError, ErrorCode

__all__ = ["KEYS_REFUSED", "BrokerError", "ErrorCode"]


class BrokerError(AppError):
    """A broker call failed; ``code`` is one of the codes below (an ``AppError``, so the
    GraphQL layer passes it through with ``extensions.code``).

    ``status`` is the broker's HTTP status when it answered, ``retry_after`` the
    seconds to wait before trying again (RATE_LIMITED only).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        retry_after: float | None = None,
        *,
        status: int | None = None,
        reason: str | None = None,
    ) -> None:
        wait = None if retry_after is None else max(1, math.ceil(retry_after))
        super().__init__(ErrorCode(code), message, retry_after=wait, reason=reason)
        self.retry_after = retry_after
        self.status = status

    def __repr__(self) -> str:
        return f"BrokerError({self.code.value}, {self.message!r}, retry_after={self.retry_after!r})"


def rejected(message: str, status: int | None = None) -> BrokerError:
    return BrokerError(ErrorCode.BROKER_REJECTED, message, status=status)


# extensions.reason of a BROKER_REJECTED whose cause is the account's stored keys.
KEYS_REFUSED = "KEYS_REFUSED"


def keys_refused(status: int) -> BrokerError:
    """The broker no longer accepts the stored keys (revoked or regenerated at Alpaca): said
    in words with what to do, and marked so a client can show the account as unhealthy."""
    return BrokerError(
        ErrorCode.BROKER_REJECTED,
        "Alpaca refused this account's keys: they may have been revoked or regenerated. "
        "Replace them on the Accounts page.",
        status=status,
        reason=KEYS_REFUSED,
    )


def bad_input(message: str, status: int | None = None) -> BrokerError:
    return BrokerError(ErrorCode.BAD_USER_INPUT, message, status=status)


def rate_limited(retry_after: float | None, status: int | None = 429) -> BrokerError:
    wait = f"; try again in {retry_after:g} s" if retry_after is not None else ""
    return BrokerError(
        ErrorCode.RATE_LIMITED, f"too many requests to the broker{wait}", retry_after, status=status
    )


def unavailable(message: str, status: int | None = None) -> BrokerError:
    return BrokerError(ErrorCode.BROKER_UNAVAILABLE, message, status=status)
