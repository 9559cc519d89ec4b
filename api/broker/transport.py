"""How one broker call travels: keys decrypted in a worker, bounded read retries, error codes.

The gateway's façade says *what* to ask Alpaca; this module says *how*: the
blocking HTTP of ``api.broker.http`` runs on a bounded thread pool, never on
the event loop; the stored keys are decrypted on that worker inside the call
and dropped when it returns (CRED-02); reads retry transient failures with
jittered exponential backoff, a few hundred milliseconds in all; writes are
sent exactly once; a failed answer leaves as a ``BrokerError`` with a code.
A bulkhead (``api.broker.bulkhead``) bounds the calls in flight per account and
per person, so one slow account never holds every worker, and the wait for a
slot counts against the call's read timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from api.broker.bulkhead import Bulkhead
from api.broker.errors import BrokerError, keys_refused, rate_limited, rejected, unavailable
from api.broker.http import Answer, ConnectionPool, Failure, NoAnswer, Outcome, Timeouts
from api.broker.models import AccountRef
from api.vault import Vault, VaultError

log = logging.getLogger(__name__)

_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
_RATE_WARNING = 20
# Alpaca's budget is per minute: warn about one account at most once per window.
_RATE_WARNING_WINDOW = 60.0
# Calls in flight at once: per account (Alpaca's budget is per key anyway) and per person.
PER_ACCOUNT_CALLS = 4
PER_OWNER_CALLS = 8


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries for reads: ``attempts`` in all, full-jitter exponential backoff.

    With the defaults the sleeps add up to at most 0.45 s, so a failing read
    answers well within two seconds plus the requests themselves.
    """

    attempts: int = 3
    base_delay: float = 0.15
    max_delay: float = 0.6

    def delay(self, retry: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return random.uniform(ceiling / 2, ceiling)


class _Unreadable:
    """Returned by a worker when the stored keys do not decrypt (the vault's keys changed)."""


_UNREADABLE = _Unreadable()


class Transport:
    """The credential-free pools, the worker threads and the retry policy of one gateway."""

    def __init__(
        self,
        vault: Vault,
        base_urls: Iterable[str],
        *,
        timeouts: Timeouts,
        retry: RetryPolicy,
        max_workers: int,
    ) -> None:
        self._vault = vault
        self._retry = retry
        self.pool = ConnectionPool(base_urls, size=max_workers, timeouts=timeouts)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="broker")
        self.bulkhead = Bulkhead(per_account=PER_ACCOUNT_CALLS, per_owner=PER_OWNER_CALLS)
        self._warned_at: dict[object, float] = {}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.pool.close()

    async def read(
        self,
        ref: AccountRef,
        base: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        parse_float: type | None = None,
        accept: frozenset[int] | set[int] = frozenset(),
    ) -> Answer:
        """A GET, retried while transient; an answer outside 2xx and ``accept`` raises."""
        outcome = await self.with_retries(
            lambda: self.send(ref, "GET", base, path, params=params, parse_float=parse_float)
        )
        return self.expect(outcome, accept)

    async def with_retries(self, send: Callable[[], Awaitable[Outcome]]) -> Outcome:
        outcome = await send()
        for retry in range(self._retry.attempts - 1):
            if not _transient(outcome):
                break
            await asyncio.sleep(self._retry.delay(retry))
            outcome = await send()
        return outcome

    def expect(self, outcome: Outcome, accept: frozenset[int] | set[int] = frozenset()) -> Answer:
        if isinstance(outcome, Answer) and (outcome.ok or outcome.status in accept):
            return outcome
        raise self.error(outcome)

    def error(self, outcome: Outcome) -> BrokerError:
        """What a failed call means to the caller, as a code and plain words."""
        if isinstance(outcome, NoAnswer):
            if outcome.queued:
                return unavailable(
                    "the broker is slow to answer for this account and too many of its calls "
                    "are waiting; nothing was sent, try again shortly"
                )
            if outcome.failure is Failure.TIMED_OUT:
                return unavailable(
                    f"the broker did not answer within {self.pool.timeouts.read:g} s"
                )
            if outcome.failure is Failure.NOT_SENT:
                return unavailable("cannot reach the broker")
            return unavailable("the connection to the broker dropped")
        message = outcome.message()
        if outcome.status == 429:
            return rate_limited(outcome.retry_after)
        if outcome.status == 401:
            # 401 is Alpaca's answer to keys it does not know (403 is a refusal of the
            # request itself, e.g. buying power), so only 401 blames the stored keys.
            return keys_refused(outcome.status)
        if 400 <= outcome.status < 500:
            return rejected(message, outcome.status)
        status = outcome.status
        return unavailable(f"the broker is unavailable ({status}: {message})", status)

    async def send(
        self,
        ref: AccountRef,
        method: str,
        base: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        parse_float: type | None = None,
    ) -> Outcome:
        """One request as the stored account, never retried here.

        It waits for a slot of the account's bulkhead first; what that wait took
        is taken off the read timeout, and a call left without time is not sent.
        """
        loop = asyncio.get_running_loop()
        budget = self.pool.timeouts.read
        started = time.monotonic()
        async with AsyncExitStack() as held:
            try:
                async with asyncio.timeout(budget / 2):
                    await held.enter_async_context(self.bulkhead.slot(ref.id, ref.owner_id))
            except TimeoutError:
                return NoAnswer(Failure.NOT_SENT, time.monotonic() - started, queued=True)
            read = budget - (time.monotonic() - started)
            call = partial(
                self._exchange_as, ref, method, base, path, params, json, parse_float, read
            )
            result = await loop.run_in_executor(self._executor, call)
        if isinstance(result, _Unreadable):
            raise VaultError("the stored credentials of this account do not decrypt")
        remaining = result.rate_remaining if isinstance(result, Answer) else None
        if remaining is not None and remaining < _RATE_WARNING:
            self._warn_low_budget(ref, remaining)
        return result

    def _warn_low_budget(self, ref: AccountRef, remaining: int) -> None:
        """Alpaca allows about 200 calls a minute per key; snapshot polling and chat share
        that budget, so operators should see it running out before a 429: once a window."""
        now = time.monotonic()
        for account, warned in list(self._warned_at.items()):
            if now - warned >= _RATE_WARNING_WINDOW:
                del self._warned_at[account]
        if ref.id in self._warned_at:
            return
        self._warned_at[ref.id] = now
        log.warning("account %s: %d broker calls left in this minute", ref.id, remaining)

    async def send_with(
        self, key_id: str, secret: str, method: str, base: str, path: str
    ) -> Outcome:
        """One request with keys that are not stored yet (verification)."""
        loop = asyncio.get_running_loop()
        call = partial(self.pool.exchange, method, base, path, key_id=key_id, secret=secret)
        return await loop.run_in_executor(self._executor, call)

    def _exchange_as(
        self,
        ref: AccountRef,
        method: str,
        base: str,
        path: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        parse_float: type | None,
        read_timeout: float,
    ) -> Outcome | _Unreadable:
        """Worker thread: decrypt, send, forget (CRED-02).

        The plaintext lives in this frame and the request only; returning (not
        raising) guarantees no traceback keeps this frame alive afterwards.
        """
        try:
            key_id = self._vault.decrypt(
                ref.key_id_encrypted, account_id=ref.id, owner_id=ref.owner_id
            )
            secret = self._vault.decrypt(
                ref.secret_encrypted, account_id=ref.id, owner_id=ref.owner_id
            )
        except VaultError:
            return _UNREADABLE
        return self.pool.exchange(
            method,
            base,
            path,
            key_id=key_id,
            secret=secret,
            params=params,
            json=json,
            parse_float=parse_float,
            read_timeout=read_timeout,
        )


def _transient(outcome: Outcome) -> bool:
    """Worth another read: a 5xx, or no connection. Not a read timeout or a full bulkhead:
    the broker is slow, and waiting again would only make the person wait longer."""
    if isinstance(outcome, NoAnswer):
        # a call that found no slot in time would only queue again behind the same calls
        return outcome.failure is not Failure.TIMED_OUT and not outcome.queued
    return outcome.status in _TRANSIENT_STATUSES
