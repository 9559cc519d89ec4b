"""The auth service: what the GraphQL layer calls for sign-up, sign-in, sign-out and invites.

One instance per process, made by the app factory. It owns the password
hasher, the abuse limits and the registry of live WebSocket sessions; every
database access is a short transaction in the right scope (anonymous for the
SECURITY DEFINER functions, the user's tenant scope for everything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from uuid import UUID

from api.auth import directory, invites, security_log, sessions, users
from api.auth.directory import DirectoryInvite, DirectoryUser
from api.auth.invites import IssuedInvite
from api.auth.passkeys import PasskeyService
from api.auth.passwords import Passwords, check_password_rules
from api.auth.rate_limits import AuthLimits
from api.auth.security_log import SecurityEvent, SecurityEventKind, device_detail
from api.auth.session_cache import SessionCache
from api.auth.sessions import Principal
from api.auth.tokens import SessionToken, parse_session_token
from api.auth.users import UserInfo, check_email, normalise_email
from api.auth.websockets import LiveSessions
from api.db import Database
from api.errors import Unauthenticated
from api.realtime import EventBus
from api.text import refuse_control_characters

log = logging.getLogger(__name__)

__all__ = ["AuthService", "IssuedInvite", "Principal", "SignedIn", "UserInfo"]


@dataclass(frozen=True)
class SignedIn:
    token: SessionToken
    user: UserInfo
    max_age: int  # seconds, for the cookie


class AuthService:
    def __init__(self, database: Database, bus: EventBus, passkeys: PasskeyService) -> None:
        self.database = database
        self.passkeys = passkeys
        self.passwords = Passwords()
        self.limits = AuthLimits(database)
        self.live_sessions = LiveSessions(database)
        bus.watch_sessions(self.live_sessions)
        # exact only while the bus listens: it says so itself (api/auth/session_cache.py)
        self.session_cache = SessionCache(lambda: bus.connected)
        bus.watch_sessions(self.session_cache)
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.passwords.warm_up()
        self._watcher = asyncio.create_task(self.live_sessions.run(), name="session-recheck")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def sign_up(
        self,
        email: str,
        password: str,
        invite_code: str | None,
        *,
        client: str,
        user_agent: str | None,
    ) -> SignedIn:
        """AUTH-01: the first user needs no invite; later ones spend an unused, unexpired one."""
        email = normalise_email(email)
        check_email(email)
        check_password_rules(password)
        await self.limits.sign_up_attempt(client, email)
        password_hash = await self.passwords.hash(password)
        user_id = await users.insert_user(self.database, email, password_hash, invite_code)
        log.info("user %s signed up", user_id)
        return await self._open_session(user_id, user_agent, client)

    async def sign_in(
        self, email: str, password: str, *, client: str, user_agent: str | None
    ) -> SignedIn:
        """AUTH-02: one answer for a wrong password and an unknown email, after the same work."""
        email = normalise_email(email)
        # counted before anything is checked (a failure until it succeeds), so refused
        # input counts too and parallel guesses cannot all pass (api/auth/rate_limits.py)
        await self.limits.sign_in_attempt(client, email)
        refuse_control_characters(email, field="email")
        found = await users.password_hash_of(self.database, email)
        ok = await self.passwords.verify(found[1] if found else None, password)
        if found is None or not ok:
            # for the email's owner, if any, a disabled one too (ADM-02)
            await security_log.record_failed_sign_in(
                self.database, email, device_detail(user_agent, client)
            )
            raise Unauthenticated("Wrong email or password")
        await self.limits.signed_in(client, email)
        return await self._open_session(found[0], user_agent, client)

    async def passkey_sign_in(
        self, credential: object, *, client: str, user_agent: str | None
    ) -> SignedIn:
        """KEY-01: a passkey answer instead of an email and password, counted against the
        same per-address limit as password sign-in (AUTH-02); there is no email to count."""
        await self.limits.sign_in_attempt(client)
        user_id = await self.passkeys.verify_sign_in(credential)
        await self.limits.signed_in(client)
        return await self._open_session(user_id, user_agent, client)

    async def _open_session(
        self, user_id: UUID, user_agent: str | None, client: str | None = None
    ) -> SignedIn:
        new = await sessions.create_session(self.database, user_id, user_agent)
        user = await users.get_user(self.database, user_id)
        if user is None:  # deleted or disabled (ADM-01) meanwhile: the session never works
            raise Unauthenticated()
        async with self.database.tenant(user_id) as conn:
            detail = device_detail(user_agent, client)
            await security_log.record(conn, user_id, SecurityEventKind.SIGNED_IN, detail)
        max_age = int(sessions.SESSION_LIFETIME.total_seconds())
        return SignedIn(new.token, user, max_age)

    async def authenticate(self, raw_token: str) -> Principal | None:
        """The principal a session token stands for, or None (malformed, revoked, expired)."""
        token = parse_session_token(raw_token)
        if token is None:
            return None
        cached = self.session_cache.get(token.hash)
        if cached is not None:
            # as the database would: the secret's session, not the one the token names
            return cached if cached.session_id == token.session_id else None
        since = self.session_cache.revision
        found = await sessions.authenticate(self.database, token)
        if found is None:
            return None
        principal, expires_at = found
        self.session_cache.remember(principal, expires_at, since)
        return principal

    async def sign_out(self, principal: Principal) -> None:
        """AUTH-03: revoke the session and close its WebSockets in this process now;
        the revocation's event closes them in every other process (api.auth.websockets)."""
        await sessions.revoke_session(self.database, principal)
        self.session_cache.forget_session(principal.session_id)
        await self.live_sessions.end(principal.session_id)

    async def create_invite(self, principal: Principal) -> IssuedInvite:
        return await invites.create_invite(self.database, principal.user_id)

    async def current_user(self, principal: Principal) -> UserInfo | None:
        return await users.get_user(self.database, principal.user_id)

    async def security_events(self, principal: Principal, limit: int) -> list[SecurityEvent]:
        return await security_log.recent(self.database, principal.user_id, limit)

    # The admin's directory (ADM-01); FORBIDDEN for everyone else.

    async def users(self, principal: Principal, limit: int) -> list[DirectoryUser]:
        return await directory.users(self.database, principal.user_id, limit)

    async def set_user_disabled(self, principal: Principal, user_id: UUID, disabled: bool) -> None:
        """Disabling ends every session of the user at once: here now, and in every other
        process when the revocations' events arrive (AUTH-03, api.auth.websockets)."""
        revoked = await directory.set_user_disabled(
            self.database, principal.user_id, user_id, disabled
        )
        for session_id in revoked:
            self.session_cache.forget_session(session_id)
            await self.live_sessions.end(session_id)

    async def invites(self, principal: Principal, limit: int) -> list[DirectoryInvite]:
        return await directory.invites(self.database, principal.user_id, limit)

    async def revoke_invite(self, principal: Principal, invite_id: UUID) -> None:
        await directory.revoke_invite(self.database, principal.user_id, invite_id)
