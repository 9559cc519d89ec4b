"""Passkeys in the schema (KEY-01..03): thin; api.auth.passkeys.PasskeyService does the work.

Options go out and credentials come back as `JSON` in WebAuthn's standard JSON form
(what `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON`
read and `PublicKeyCredential.toJSON()` writes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from api.auth.passkey_store import PasskeyInfo
from api.errors import NotFound
from schema.auth.types import AuthPayload
from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.scalars import JSON

# The optional argument of every mutation a passkey may approve (KEY-02, RISK-03).
PasskeyAnswer = Annotated[
    JSON | None,
    strawberry.argument(
        description="The passkey's answer (PublicKeyCredential.toJSON()) to the options a "
        "PASSKEY_REQUIRED error carried in extensions.options."
    ),
]


@strawberry.type(description="A passkey registered for signing in and approving live actions.")
class Passkey:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, passkey: PasskeyInfo) -> Passkey:
        return cls(
            id=passkey.id,
            name=passkey.name,
            created_at=passkey.created_at,
            last_used_at=passkey.last_used_at,
        )


@strawberry.type
class PasskeyQuery:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Your passkeys.")
    async def passkeys(self, info: Info) -> list[Passkey]:
        user_id = info.context.require_principal().user_id
        return [Passkey.of(p) for p in await info.context.auth.passkeys.list(user_id)]


@strawberry.type
class PasskeyMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Creation options for a new passkey (for navigator.credentials.create). "
        "Needs a sign-in within 5 minutes or, for a person who has a passkey, one of them "
        "(PASSKEY_REQUIRED, then again with `passkey`).",
    )
    async def begin_passkey_registration(
        self,
        info: Info,
        passkey: PasskeyAnswer = None,
    ) -> JSON:
        context = info.context
        principal = context.require_principal()
        user = await context.auth.current_user(principal)
        if user is None:
            raise NotFound("No such user")
        return JSON(await context.auth.passkeys.begin_registration(principal, user.email, passkey))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Store the passkey navigator.credentials.create made from the options.",
    )
    async def finish_passkey_registration(self, info: Info, credential: JSON, name: str) -> Passkey:
        user_id = info.context.require_principal().user_id
        added = await info.context.auth.passkeys.finish_registration(user_id, credential, name)
        return Passkey.of(added)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Remove one of your passkeys; never the last way to sign in. Needs a "
        "sign-in within 5 minutes or a passkey (PASSKEY_REQUIRED, then again with `passkey`).",
    )
    async def remove_passkey(
        self,
        info: Info,
        id: UUID,
        passkey: PasskeyAnswer = None,
    ) -> bool:
        principal = info.context.require_principal()
        await info.context.auth.passkeys.remove(principal, id, passkey)
        return True

    @strawberry.mutation(
        description="Request options for signing in with a passkey (no email: the device "
        "offers its passkeys for this site)."
    )
    async def begin_passkey_sign_in(self, info: Info) -> JSON:
        return JSON(await info.context.auth.passkeys.begin_sign_in())

    @strawberry.mutation(
        description="Open a session with the passkey navigator.credentials.get returned; "
        "also sets the HttpOnly session cookie, as signIn does."
    )
    async def finish_passkey_sign_in(self, info: Info, credential: JSON) -> AuthPayload:
        context = info.context
        signed_in = await context.auth.passkey_sign_in(
            credential, client=context.client_address, user_agent=context.user_agent
        )
        context.set_session_cookie(str(signed_in.token), signed_in.max_age)
        return AuthPayload.of(signed_in)
