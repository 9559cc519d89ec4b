"""Credential-free connection pools, one per broker base URL, with timeouts on every call.

Why not alpaca-py's ``TradingClient``: its ``RESTClient`` opens a fresh
``requests.Session`` per client and keeps the key pair on itself (a client per
user would be a long-lived credential holder, a client per call would lose the
pool), sends requests with no timeout, and on 429/504 sleeps in the calling
thread and retries, order POSTs included. So the gateway sends the same REST
calls through these pools and keeps alpaca-py for what it is good at: its
request models validate orders and its response models parse the answers.

The pools hold sockets only. Keys travel as headers of one request and are
never set on a session; cookies are refused so nothing one tenant's answer
sets can ride along on another tenant's request. Calls here are blocking and
run on the gateway's bounded thread pool, never on the event loop.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from alpaca.common.utils import get_default_user_agent
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from urllib3.exceptions import MaxRetryError, NewConnectionError

from api.metrics import count_broker_call

log = logging.getLogger(__name__)

KEY_ID_HEADER = "APCA-API-KEY-ID"
SECRET_HEADER = "APCA-API-SECRET-KEY"  # noqa: S105 - a header name, not a secret


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to open a connection and to wait for each read of the answer."""

    connect: float = 3.0
    read: float = 10.0


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer reduced to what the gateway needs; no request, no headers sent."""

    status: int
    body: Any
    text: str
    retry_after: float | None = None
    rate_remaining: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def message(self) -> str:
        """The broker's own words: Alpaca's ``{"code", "message"}`` body, else its text."""
        message = self.body.get("message") if isinstance(self.body, dict) else None
        if isinstance(message, str):
            return message
        return self.text.strip()[:300] or f"HTTP {self.status}"


class Failure(Enum):
    """Why no answer came; ``NOT_SENT`` means the broker cannot have seen the request."""

    NOT_SENT = "not sent"
    TIMED_OUT = "timed out"
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """``queued``: never sent because the account's calls in flight left no slot in time."""

    failure: Failure
    seconds: float
    queued: bool = False


Outcome = Answer | NoAnswer


class ConnectionPool:
    """One ``requests.Session`` per base URL, shared by every tenant, holding no credentials."""

    def __init__(self, base_urls: Iterable[str], *, size: int, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self._sessions = {url.rstrip("/"): _session(url, size) for url in base_urls}

    def sessions(self) -> list[requests.Session]:
        return list(self._sessions.values())

    def exchange(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        key_id: str,
        secret: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        parse_float: type | None = None,
        read_timeout: float | None = None,
    ) -> Outcome:
        """One request, no retries. Blocking: call it from a worker thread.

        Returns rather than raises, so no exception carrying the request (and
        its headers) or a frame holding the keys travels back to the caller.
        ``read_timeout`` shortens the pool's read timeout (what is left of a
        call's time after it waited for a slot).
        """
        session = self._sessions[base_url.rstrip("/")]
        started = time.perf_counter()
        failure: Failure | None = None
        try:
            response = session.request(
                method,
                base_url + path,
                params=params,
                json=json,
                headers={KEY_ID_HEADER: key_id, SECRET_HEADER: secret},
                timeout=(self.timeouts.connect, read_timeout or self.timeouts.read),
                allow_redirects=False,
            )
        except requests.ConnectTimeout as error:
            failure = Failure.NOT_SENT
            _forget(error)
        except requests.ReadTimeout as error:
            failure = Failure.TIMED_OUT
            _forget(error)
        except requests.ConnectionError as error:
            failure = Failure.NOT_SENT if _never_connected(error) else Failure.DROPPED
            _forget(error)
        except requests.RequestException as error:
            # Anything else from requests happened after the socket was handed the request
            # (or we cannot tell), so the order path must treat it as possibly sent.
            failure = Failure.DROPPED
            _forget(error)
        elapsed = time.perf_counter() - started
        if failure is not None:
            log.info("broker %s %s: %s after %.0f ms", method, path, failure.value, elapsed * 1000)
            count_broker_call(None)
            return NoAnswer(failure, elapsed)
        count_broker_call(response.status_code)
        try:
            return _answer(response, parse_float)
        finally:
            response.close()
            log.debug(
                "broker %s %s -> %s in %.1f ms",
                method,
                path,
                response.status_code,
                elapsed * 1000,
            )

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()


def _session(base_url: str, size: int) -> requests.Session:
    session = requests.Session()
    # trust_env off: no ~/.netrc Authorization header and no per-request environment
    # scan; the proxy settings for this host are read once, here, honouring no_proxy.
    session.trust_env = False
    session.proxies.update(get_environ_proxies(base_url))
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": get_default_user_agent(), "Accept": "application/json"})
    return session


def _answer(response: requests.Response, parse_float: type | None) -> Answer:
    text = response.text
    body: Any = None
    if text:
        try:
            body = response.json(parse_float=parse_float) if parse_float else response.json()
        except ValueError:
            body = None
    headers = response.headers
    remaining = headers.get("X-RateLimit-Remaining")
    return Answer(
        status=response.status_code,
        body=body,
        text=text if body is None else "",
        retry_after=_retry_after(headers) if response.status_code == 429 else None,
        rate_remaining=int(remaining) if remaining and remaining.isdigit() else None,
    )


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait: ``Retry-After`` (seconds or a date), else ``X-RateLimit-Reset``."""
    raw = headers.get("Retry-After")
    if raw:
        if raw.strip().isdigit():
            return float(raw.strip())
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def _never_connected(error: requests.ConnectionError) -> bool:
    reason = error.args[0] if error.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)


def _forget(error: BaseException) -> None:
    """Drop what a failed request leaves behind: the prepared request and frame locals.

    requests' exceptions keep the PreparedRequest (headers included) and their
    tracebacks keep the frames that held the keys; clearing both now frees them
    at once instead of whenever the cycle collector runs (CRED-02).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.RequestException):
            current.request = None
            current.response = None
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__
