"""Subscriptions of the auth domain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from schema.auth.types import SessionEvent, User
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class AuthSubscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Yields the session's user once, then stays open while the session lives. "
        "When the session ends (sign-out anywhere, expiry) the server closes the WebSocket "
        "with code 4401.",
    )
    async def session_events(self, info: Info) -> AsyncGenerator[SessionEvent, None]:
        context = info.context
        user = await context.auth.current_user(context.require_principal())
        if user is None:
            return
        yield SessionEvent(user=User.of(user))
        # nothing more to say until the connection is closed, which cancels this
        await asyncio.get_running_loop().create_future()
