"""What the schema calls for push: the server's VAPID key, a person's devices and preferences.

Guarantees: every call runs in the caller's own tenant scope (PUSH-03); an
endpoint is accepted only for a known push service (PUSH-02, api/notify/endpoints.py)
and the browser's keys only if they are a P-256 point and a 16-byte secret, so
nothing is stored that could not be encrypted to. When the server has no
VAPID_SUBJECT, push is off: `vapid_public_key` is None and adding a device is
FORBIDDEN (reason "push_off"), which the PWA shows.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric import ec

from api.config import Settings
from api.db import Database
from api.errors import BadUserInput, Forbidden
from api.live.supervisor import StreamSupervisor
from api.notify import store
from api.notify.dispatcher import PushDispatcher
from api.notify.endpoints import check_endpoint
from api.notify.messages import Kind
from api.notify.store import Device, Preferences
from api.notify.webpush import PushTarget, WebPushSender, b64url_decode
from api.realtime import EventBus

AUTH_SECRET_BYTES = 16
MAX_USER_AGENT = 300


def _browser_key(p256dh: str) -> str:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(p256dh))
    except (ValueError, binascii.Error):
        raise BadUserInput("Not a browser push key (P-256, base64url)", field="p256dh") from None
    return p256dh


def _auth_secret(auth: str) -> str:
    try:
        valid = len(b64url_decode(auth)) == AUTH_SECRET_BYTES
    except (ValueError, binascii.Error):
        valid = False
    if not valid:
        raise BadUserInput("Not a push auth secret (16 bytes, base64url)", field="auth")
    return auth


class NotifyService:
    def __init__(
        self,
        database: Database,
        dispatcher: PushDispatcher | None,
        public_key: str | None,
        *,
        allow_loopback: bool = False,
    ) -> None:
        self._database = database
        self._dispatcher = dispatcher
        self._public_key = public_key
        self._allow_loopback = allow_loopback

    @classmethod
    def from_settings(
        cls, settings: Settings, database: Database, bus: EventBus, streams: StreamSupervisor
    ) -> NotifyService:
        """Push on when VAPID_SUBJECT is set (api/config.py), off otherwise."""
        if settings.vapid_subject is None or settings.vapid_private_key is None:
            return cls(database, None, None)
        sender = WebPushSender(
            settings.vapid_private_key,
            settings.vapid_subject,
            allow_loopback=settings.push_allow_loopback,
        )
        dispatcher = PushDispatcher(database, bus, sender, streams)
        return cls(
            database, dispatcher, sender.public_key, allow_loopback=settings.push_allow_loopback
        )

    async def start(self) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.start()

    async def stop(self) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.stop()

    @property
    def dispatcher(self) -> PushDispatcher | None:
        return self._dispatcher

    @property
    def vapid_public_key(self) -> str | None:
        """The applicationServerKey browsers subscribe with; None while push is off."""
        return self._public_key

    async def add_device(
        self, user_id: UUID, endpoint: str, p256dh: str, auth: str, user_agent: str | None
    ) -> Device:
        if self._dispatcher is None:
            raise Forbidden("Notifications are not set up on this server", reason="push_off")
        target = PushTarget(
            check_endpoint(endpoint, allow_loopback=self._allow_loopback),
            _browser_key(p256dh),
            _auth_secret(auth),
        )
        async with self._database.tenant(user_id) as conn:
            device = await store.add_device(
                conn, user_id, target, (user_agent or "")[:MAX_USER_AGENT] or None
            )
        self._dispatcher.watch_now()
        return device

    async def remove_device(self, user_id: UUID, endpoint: str) -> bool:
        async with self._database.tenant(user_id):
            removed = await store.remove_device(endpoint)
        if self._dispatcher is not None:
            self._dispatcher.watch_now()
        return removed

    async def devices(self, user_id: UUID) -> list[Device]:
        async with self._database.tenant(user_id):
            return await store.devices()

    async def preferences(self, user_id: UUID) -> Preferences:
        async with self._database.tenant(user_id):
            return await store.preferences()

    async def set_preferences(
        self, user_id: UUID, *, kinds: Iterable[Kind] | None, hide_amounts: bool | None
    ) -> Preferences:
        """Change what is given (kinds heard, amounts hidden); the rest stays as it was."""
        async with self._database.tenant(user_id) as conn:
            current = await store.preferences()
            muted = current.muted if kinds is None else frozenset(Kind) - frozenset(kinds)
            hide = current.hide_amounts if hide_amounts is None else hide_amounts
            return await store.save_preferences(conn, user_id, Preferences(muted, hide))
