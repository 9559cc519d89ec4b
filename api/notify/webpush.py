"""Web Push itself: VAPID (RFC 8292), aes128gcm payload encryption (RFC 8291), one POST.

The one module that speaks to push services (docs/architecture.md, "Each outside
system behind one module"). `py_vapid` signs the JWT and `http_ece` encrypts;
the request goes over this module's own pooled `httpx.AsyncClient` with
timeouts, never following a redirect (a push service answering 3xx is a
failure, not a new address to try: PUSH-02), and without the environment's
proxy or .netrc settings. Every send checks the endpoint against the allow-list
again (api/notify/endpoints.py).

Nothing secret goes out: the JWT carries only the push service's origin, an
expiry and the operator's VAPID subject; the payload is what
api/notify/messages.py made, encrypted to the one browser that subscribed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import http_ece
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from api.notify.endpoints import EndpointRefused, check_endpoint

JWT_LIFETIME = 12 * 3600  # RFC 8292 allows at most 24 h
DEFAULT_TTL = 24 * 3600  # how long a push service keeps a message for an offline device
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_CONNECTIONS = 20
RECORD_SIZE = 4096


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class PushTarget:
    """One browser's subscription: where to send and the keys to encrypt to."""

    endpoint: str
    p256dh: str
    auth: str


class Outcome(StrEnum):
    SENT = "SENT"
    GONE = "GONE"  # 404/410: the browser unsubscribed; forget the subscription
    RETRY = "RETRY"  # 429, 5xx, network: try again later
    FAILED = "FAILED"  # refused for good (400, 401, 403, 413, a redirect, a refused endpoint)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return float(raw) if raw.isdigit() else None


def _outcome(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SENT
    if status in (404, 410):
        return Outcome.GONE
    if status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.FAILED


def topic_for(tag: str) -> str:
    """RFC 8030 `Topic` (at most 32 base64url characters): a newer message with the same
    topic replaces one the push service still holds for an offline device."""
    return b64url(hashlib.sha256(tag.encode()).digest())[:32]


class WebPushSender:
    """Signs, encrypts and sends; one per process, closed at shutdown."""

    def __init__(self, private_key_pem: str, subject: str, *, allow_loopback: bool = False) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the VAPID key must be an EC key")
        self._vapid = Vapid02(private_key=key)
        self._subject = subject
        self._allow_loopback = allow_loopback
        self.public_key = b64url(
            key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self._client = httpx.AsyncClient(
            timeout=TIMEOUT,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS),
        )

    async def close(self) -> None:
        await self._client.aclose()

    def _authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + JWT_LIFETIME,
            "sub": self._subject,
        }
        return str(self._vapid.sign(claims)["Authorization"])

    def encrypt(self, target: PushTarget, payload: bytes) -> bytes:
        """RFC 8291: a fresh sender key and salt per message, to the browser's p256dh/auth."""
        return bytes(
            http_ece.encrypt(
                payload,
                salt=os.urandom(16),
                private_key=ec.generate_private_key(ec.SECP256R1()),
                dh=b64url_decode(target.p256dh),
                auth_secret=b64url_decode(target.auth),
                version="aes128gcm",
                rs=RECORD_SIZE,
            )
        )

    async def send(
        self, target: PushTarget, payload: bytes, *, topic: str, ttl: int = DEFAULT_TTL
    ) -> SendResult:
        try:
            endpoint = check_endpoint(target.endpoint, allow_loopback=self._allow_loopback)
        except EndpointRefused:
            return SendResult(Outcome.FAILED)
        headers = {
            "Authorization": self._authorization(endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": "high",
            "Topic": topic,
        }
        try:
            response = await self._client.post(
                endpoint, content=self.encrypt(target, payload), headers=headers
            )
        except httpx.HTTPError:
            return SendResult(Outcome.RETRY)
        status = response.status_code
        return SendResult(_outcome(status), status, _retry_after(response))
