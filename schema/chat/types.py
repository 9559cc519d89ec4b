"""GraphQL types of the chat domain, mapped from api.chat records (never from rows)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

import strawberry

from api.chat.store import ChatMessageRecord, StoredToolCall
from schema.scalars import JSON
from schema.trading.types import Order, OrderProposal


@strawberry.enum
class ChatRole(Enum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"


@strawberry.type(description="A tool the chat called on the selected account, and its result.")
class ToolCall:
    name: str
    arguments: JSON = strawberry.field(description="The validated arguments that were used.")
    result: JSON | None = strawberry.field(
        description='What the tool returned; {"error": {code, message}} when it was refused.'
    )
    ignored_arguments: list[str] = strawberry.field(
        description="Arguments outside the tool's schema (e.g. an account id): never used."
    )

    @classmethod
    def of(cls, call: StoredToolCall) -> ToolCall:
        return cls(
            name=call.name,
            arguments=JSON(call.arguments),
            result=JSON(call.result),
            ignored_arguments=list(call.ignored_arguments),
        )


@strawberry.type(description="One message of the chat about one account.")
class ChatMessage:
    id: UUID
    account_id: UUID
    role: ChatRole
    text: str
    created_at: datetime
    tool_calls: list[ToolCall]
    proposals: list[OrderProposal] = strawberry.field(
        description="Orders this reply proposed, in their current status."
    )
    orders: list[Order] = strawberry.field(
        description="Orders this reply sent at once (paper accounts with chat auto-execute)."
    )

    @classmethod
    def of(cls, message: ChatMessageRecord) -> ChatMessage:
        return cls(
            id=message.id,
            account_id=message.account_id,
            role=ChatRole(message.role),
            text=message.text,
            created_at=message.created_at,
            tool_calls=[ToolCall.of(c) for c in message.tool_calls],
            proposals=[OrderProposal.of(p) for p in message.proposals],
            orders=[Order.of(o) for o in message.orders],
        )


@strawberry.type(description="The stored user message and the chat's reply.")
class ChatTurn:
    user_message: ChatMessage
    reply: ChatMessage
