"""Injected failures and the per-key rate limit.

The product must survive a slow, flaky, rate-limiting broker and a dropped
trade-update stream. Tests switch those conditions on through
``POST /_sandbox/faults``; this module holds the current settings and decides,
call by call, whether a REST call is delayed, refused or answered normally.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from api.sandbox.errors import CODE_RATE_LIMITED, SandboxError, bad_request

DEFAULT_RATE_LIMIT = 200
_WINDOW_SECONDS = 60
_RETRY_AFTER_SECONDS = 1
_ERROR_MESSAGES = {
    500: "internal server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


@dataclass(slots=True)
class Faults:
    """The current fault settings; a POST replaces them all at once."""

    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    error_count: int = 0
    force_429: int = 0
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT
    accept_then_timeout_seconds: float = 0.0
    drop_streams: bool = False
    key_id: str | None = None

    def applies_to(self, key_id: str | None) -> bool:
        return self.key_id is None or self.key_id == key_id

    def public(self) -> dict[str, Any]:
        # drop_streams is a one-off action, not a standing setting, so it is never shown.
        return {k: v for k, v in asdict(self).items() if k != "drop_streams"}


def parse_faults(body: Any) -> Faults:
    """Validate a faults body; unknown fields are refused so a typo never silently does nothing."""
    if not isinstance(body, dict):
        raise bad_request("faults must be a JSON object")
    known = set(Faults.__dataclass_fields__)
    unknown = set(body) - known
    if unknown:
        raise bad_request(f"unknown fault fields: {', '.join(sorted(unknown))}")
    faults = Faults(
        latency_ms=_int(body, "latency_ms", 0),
        error_rate=_float(body, "error_rate", 0.0),
        error_status=_int(body, "error_status", 500),
        error_count=_int(body, "error_count", 0),
        force_429=_int(body, "force_429", 0),
        rate_limit_per_minute=_int(body, "rate_limit_per_minute", DEFAULT_RATE_LIMIT),
        accept_then_timeout_seconds=_float(body, "accept_then_timeout_seconds", 0.0),
        drop_streams=bool(body.get("drop_streams", False)),
        key_id=body.get("key_id") or None,
    )
    if not 0.0 <= faults.error_rate <= 1.0:
        raise bad_request("error_rate must be between 0 and 1")
    if not 400 <= faults.error_status <= 599:
        raise bad_request("error_status must be an HTTP error status")
    if faults.rate_limit_per_minute < 1:
        raise bad_request("rate_limit_per_minute must be at least 1")
    return faults


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_request(f"{name} must be a non-negative integer")
    return value


def _float(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise bad_request(f"{name} must be a non-negative number")
    return float(value)


@dataclass(slots=True)
class _Window:
    ends: int  # Unix epoch seconds, as X-RateLimit-Reset reports it
    count: int = 0


@dataclass(slots=True)
class RateVerdict:
    limit: int
    remaining: int
    reset_epoch: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }


@dataclass
class FaultInjector:
    """Applies the current ``Faults`` to REST calls; seeded so error_rate runs repeat."""

    seed: int
    faults: Faults = field(default_factory=Faults)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def replace(self, faults: Faults) -> None:
        self.faults = faults

    def clear(self) -> None:
        self.faults = Faults()
        # A fresh budget too: tests that exhausted it must not leak into the next test.
        self._windows.clear()

    def latency_seconds(self, key_id: str | None) -> float:
        faults = self.faults
        return faults.latency_ms / 1000 if faults.applies_to(key_id) else 0.0

    def rate(self, key: str) -> RateVerdict:
        """Count one call against the key's per-minute budget.

        Windows are fixed minutes that start on the whole second of the key's first
        call, so ``X-RateLimit-Reset`` (whole seconds, as Alpaca sends it) is the
        exact moment the budget refills, not a rounding of it.
        """
        limit = (
            self.faults.rate_limit_per_minute if self.faults.applies_to(key) else DEFAULT_RATE_LIMIT
        )
        moment = time.time()
        window = self._windows.get(key)
        if window is None or moment >= window.ends:
            window = self._windows[key] = _Window(ends=math.floor(moment) + _WINDOW_SECONDS)
        window.count += 1
        return RateVerdict(limit, max(0, limit - window.count), window.ends, window.count <= limit)

    def injected_error(self, key_id: str | None) -> SandboxError | None:
        """The error this call must fail with, if any; consumes counted faults."""
        faults = self.faults
        if not faults.applies_to(key_id):
            return None
        if faults.force_429 > 0:
            faults.force_429 -= 1
            return rate_limited()
        if faults.error_count > 0:
            faults.error_count -= 1
            return _server_error(faults.error_status)
        if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
            return _server_error(500)
        return None

    def take_accept_then_timeout(self, key_id: str | None) -> float:
        """Seconds to hold the next order POST's answer (once), or 0."""
        faults = self.faults
        seconds = faults.accept_then_timeout_seconds
        if seconds <= 0 or not faults.applies_to(key_id):
            return 0.0
        faults.accept_then_timeout_seconds = 0.0
        return seconds


def rate_limited() -> SandboxError:
    return SandboxError(429, CODE_RATE_LIMITED, "rate limit exceeded")


def retry_after_headers() -> dict[str, str]:
    """For an injected 429 only: an exhausted budget says when it refills in X-RateLimit-Reset."""
    return {"Retry-After": str(_RETRY_AFTER_SECONDS)}


def _server_error(status: int) -> SandboxError:
    # Alpaca's codes are the HTTP status followed by five digits.
    return SandboxError(status, status * 100_000, _ERROR_MESSAGES.get(status, "error"))
