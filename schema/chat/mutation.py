"""Mutations of the chat domain (CHAT-01, TRADE-01): one turn on the selected account."""

from __future__ import annotations

from uuid import UUID

import strawberry

from schema.chat.types import ChatMessage, ChatTurn
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class ChatMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Default: active account. Orders become proposals for confirmOrder; "
        "LLM_UNAVAILABLE when the model cannot answer (the message is kept).",
    )
    async def send_chat_message(
        self, info: Info, text: str, account_id: UUID | None = None
    ) -> ChatTurn:
        user_id = info.context.require_principal().user_id
        mine, reply = await info.context.services.chat.send(user_id, text, account_id)
        return ChatTurn(user_message=ChatMessage.of(mine), reply=ChatMessage.of(reply))
