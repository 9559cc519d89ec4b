"""Stored chat messages: one table, per user and account, under row-level security (CHAT-03).

Every function here runs inside the caller's `Database.tenant(user_id)`, so
PostgreSQL shows and accepts only that user's rows; queries also name the
account, so histories never mix between accounts.
What is stored is what the user saw: the text, the tool calls with their
validated arguments and results (secret-free by the `AccountActions`
contract), and, through `order_proposals.message_id`, the proposals a reply made.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from piccolo.custom_types import Combinable

from api.broker import BrokerOrder
from api.chat.shapes import order_from_json
from api.db.tables import ChatMessage, OrderProposal
from api.trading import Proposal
from api.trading import proposals as proposal_rows

log = logging.getLogger(__name__)

Role = Literal["USER", "ASSISTANT"]

_COLUMNS = (
    ChatMessage.id,
    ChatMessage.account_id,
    ChatMessage.role,
    ChatMessage.content,
    ChatMessage.tool_calls,
    ChatMessage.created_at,
)


@dataclass(frozen=True)
class StoredToolCall:
    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    ignored_arguments: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "arguments": self.arguments,
            "result": self.result,
        }
        if self.ignored_arguments:
            data["ignored_arguments"] = list(self.ignored_arguments)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredToolCall:
        return cls(
            name=str(data.get("name", "")),
            arguments=dict(data.get("arguments") or {}),
            result=dict(data.get("result") or {}),
            ignored_arguments=tuple(data.get("ignored_arguments") or ()),
        )


@dataclass(frozen=True)
class ChatMessageRecord:
    """One message as the API shows it; proposals carry their current status."""

    id: UUID
    account_id: UUID
    role: Role
    text: str
    created_at: datetime
    tool_calls: tuple[StoredToolCall, ...] = ()
    proposals: tuple[Proposal, ...] = ()

    @property
    def orders(self) -> tuple[BrokerOrder, ...]:
        """Orders this message's tool calls actually sent (paper auto-execute)."""
        found = []
        for call in self.tool_calls:
            order = call.result.get("order")
            if not isinstance(order, dict):
                continue
            try:
                found.append(order_from_json(order))
            except (KeyError, ValueError, TypeError) as error:
                log.warning("chat message %s: unreadable stored order (%s)", self.id, error)
        return tuple(found)


async def insert(
    conn: asyncpg.Connection,
    *,
    owner_id: UUID,
    account_id: UUID,
    role: Role,
    text: str,
    tool_calls: Sequence[StoredToolCall] = (),
) -> ChatMessageRecord:
    # SQL, naming only the columns the runtime role may insert (api/db/tables.py)
    row = await conn.fetchrow(
        """insert into app.chat_messages (owner_id, account_id, role, content, tool_calls)
            values ($1, $2, $3, $4, $5::jsonb)
            returning id, account_id, role, content, tool_calls, created_at""",
        owner_id,
        account_id,
        role,
        text,
        json.dumps([c.to_json() for c in tool_calls], ensure_ascii=False),
    )
    assert row is not None  # RETURNING always answers one row
    return _record(row)


async def link_proposals(message_id: UUID, account_id: UUID, proposal_ids: Sequence[UUID]) -> None:
    """Attach the turn's proposals to its reply; only unlinked ones of the same account."""
    if proposal_ids:
        await OrderProposal.update({OrderProposal.message_id: message_id}).where(
            OrderProposal.id.is_in(list(proposal_ids))
            & (OrderProposal.account_id == account_id)
            & OrderProposal.message_id.is_null()
        )


async def window(
    account_id: UUID, limit: int, *, before: UUID | None = None
) -> list[ChatMessageRecord]:
    """The newest `limit` messages of the account (older than `before`), oldest first."""
    where: Combinable = ChatMessage.account_id == account_id
    if before is not None:
        where &= ChatMessage.id != before
    rows = (
        await ChatMessage.select(*_COLUMNS)
        .where(where)
        .order_by(ChatMessage.created_at, ChatMessage.id, ascending=False)
        .limit(limit)
    )
    return [_record(r) for r in reversed(rows)]


async def with_proposals(messages: Sequence[ChatMessageRecord]) -> list[ChatMessageRecord]:
    """The messages with the proposals linked to them, in their current status."""
    if not messages:
        return []
    found = await proposal_rows.for_messages([m.id for m in messages])
    by_message: dict[UUID, list[Proposal]] = {}
    for proposal in found:
        if proposal.message_id is not None:
            by_message.setdefault(proposal.message_id, []).append(proposal)
    return [
        ChatMessageRecord(
            id=m.id,
            account_id=m.account_id,
            role=m.role,
            text=m.text,
            created_at=m.created_at,
            tool_calls=m.tool_calls,
            proposals=tuple(by_message.get(m.id, ())),
        )
        for m in messages
    ]


def _record(row: Mapping[str, Any] | asyncpg.Record) -> ChatMessageRecord:
    raw = row["tool_calls"]
    calls = json.loads(raw) if isinstance(raw, str) else (raw or [])
    return ChatMessageRecord(
        id=row["id"],
        account_id=row["account_id"],
        role=row["role"],
        text=row["content"],
        created_at=row["created_at"],
        tool_calls=tuple(StoredToolCall.from_json(c) for c in calls if isinstance(c, dict)),
    )
