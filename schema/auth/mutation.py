"""Mutations of the auth domain (AUTH-01..03): thin; api.auth.AuthService does the work."""

from __future__ import annotations

import strawberry

from schema.auth.passkeys import PasskeyMutation
from schema.auth.types import AuthPayload, Invite
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class AuthMutation(PasskeyMutation):
    @strawberry.mutation(
        description="Create a user and sign in. The first user needs no invite; later ones do."
    )
    async def sign_up(
        self, info: Info, email: str, password: str, invite_code: str | None = None
    ) -> AuthPayload:
        context = info.context
        signed_in = await context.auth.sign_up(
            email,
            password,
            invite_code,
            client=context.client_address,
            user_agent=context.user_agent,
        )
        context.set_session_cookie(str(signed_in.token), signed_in.max_age)
        return AuthPayload.of(signed_in)

    @strawberry.mutation(description="Open a session; also sets the HttpOnly session cookie.")
    async def sign_in(self, info: Info, email: str, password: str) -> AuthPayload:
        context = info.context
        signed_in = await context.auth.sign_in(
            email, password, client=context.client_address, user_agent=context.user_agent
        )
        context.set_session_cookie(str(signed_in.token), signed_in.max_age)
        return AuthPayload.of(signed_in)

    @strawberry.mutation(
        description="End this session everywhere (WebSockets included) and clear the cookie. "
        "False when there was no session."
    )
    async def sign_out(self, info: Info) -> bool:
        context = info.context
        context.clear_session_cookie()
        if context.principal is None:
            return False
        await context.auth.sign_out(context.principal)
        context.principal = None
        return True

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="A one-time invite code, valid for 7 days.",
    )
    async def create_invite(self, info: Info) -> Invite:
        context = info.context
        invite = await context.auth.create_invite(context.require_principal())
        return Invite.of(invite, context.origin)
