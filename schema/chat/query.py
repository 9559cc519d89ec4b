"""Queries of the chat domain (CHAT-03): one account's history, the owner's only."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.chat.types import ChatMessage
from schema.context import Info
from schema.limits import list_limit
from schema.permissions import IsAuthenticated


@strawberry.type
class ChatQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Oldest first; the newest `limit` messages. Default: active account.",
    )
    async def chat_history(
        self, info: Info, account_id: UUID | None = None, limit: int = 50
    ) -> list[ChatMessage]:
        user_id = info.context.require_principal().user_id
        found = await info.context.services.chat.history(user_id, account_id, list_limit(limit))
        return [ChatMessage.of(m) for m in found]
