"""The chat behind `sendChatMessage` and `chatHistory` (CHAT-01..03, TRADE-01, ISO-02).

Guarantees:

* The account is resolved for the signed-in user before anything else: an
  id that is missing or someone else's is NOT_FOUND and nothing is stored
  (ISO-02). The turn's tools are bound to that one account (TRADE-01).
* The user's message is stored first, in its own short tenant transaction,
  so it is kept even when the model fails; `LLM_UNAVAILABLE` then reaches the
  client. If the model failed after proposing, what it proposed or sent is
  still stored, as an assistant note, so nothing done on the account is hidden.
* No transaction is held open while the model or the broker works: each
  write is its own unit of work (docs/architecture.md#a-tenant-transaction-per-unit-of-work).
* Nothing stored or returned holds a credential: tool results are built from
  broker records without keys, and the prompt is built from the account's
  nickname and environment only (CRED-02).
"""

from __future__ import annotations

import logging
from uuid import UUID

from api.accounts import Account, AccountService
from api.broker import BrokerGateway
from api.chat import store
from api.chat.contract import AccountContext, HistoryMessage
from api.chat.engine import MAX_TEXT_CHARS, ChatEngine, Turn
from api.chat.service_actions import ServiceActions
from api.chat.store import ChatMessageRecord, StoredToolCall
from api.db import Database
from api.errors import AppError, BadUserInput
from api.markets import MarketService
from api.text import refuse_control_characters
from api.trading import TradingService

log = logging.getLogger(__name__)

# What the model sees of earlier messages; the driver may cut it further.
HISTORY_WINDOW = 20
INTERRUPTED_NOTE = (
    "The chat stopped before it could answer. What it did before stopping is shown "
    "here; proposals still need your confirmation."
)


class ChatService:
    def __init__(
        self,
        database: Database,
        accounts: AccountService,
        trading: TradingService,
        gateway: BrokerGateway,
        engine: ChatEngine,
        markets: MarketService,
    ) -> None:
        self._database = database
        self._accounts = accounts
        self._trading = trading
        self._gateway = gateway
        self._engine = engine
        self._markets = markets

    async def send(
        self, user_id: UUID, text: str, account_id: UUID | None
    ) -> tuple[ChatMessageRecord, ChatMessageRecord]:
        """One turn on the selected account: (the stored user message, the stored reply)."""
        text = _clean(text)
        account = await self._accounts.resolve(user_id, account_id)
        async with self._database.tenant(user_id) as conn:
            mine = await store.insert(
                conn, owner_id=user_id, account_id=account.id, role="USER", text=text
            )
        async with self._database.tenant(user_id):
            earlier = await store.window(account.id, HISTORY_WINDOW, before=mine.id)
        actions = self._actions(user_id, account)
        try:
            turn = await self._engine.run_turn(
                text,
                [HistoryMessage(m.role.lower(), m.text) for m in earlier],  # type: ignore[arg-type]
                AccountContext(account.record.nickname, account.environment),
                actions,
            )
        except AppError:
            if actions.made:
                await self._store_interrupted(user_id, account, actions)
            raise
        reply = await self._store_reply(user_id, account, turn, actions.proposal_ids)
        return mine, reply

    async def history(
        self, user_id: UUID, account_id: UUID | None, limit: int
    ) -> list[ChatMessageRecord]:
        """The account's newest `limit` messages (1..500: schema/limits.py), oldest first,
        with proposals (CHAT-03)."""
        account = await self._accounts.resolve(user_id, account_id)
        async with self._database.tenant(user_id):
            messages = await store.window(account.id, limit)
            return await store.with_proposals(messages)

    def _actions(self, user_id: UUID, account: Account) -> ServiceActions:
        return ServiceActions(
            user_id, account, self._accounts, self._trading, self._gateway, self._markets
        )

    async def _store_reply(
        self, user_id: UUID, account: Account, turn: Turn, proposal_ids: list[UUID]
    ) -> ChatMessageRecord:
        calls = [
            StoredToolCall(c.name, c.arguments, c.result, c.ignored_arguments)
            for c in turn.tool_calls
        ]
        return await self._store_assistant(user_id, account, turn.text, calls, proposal_ids)

    async def _store_interrupted(
        self, user_id: UUID, account: Account, actions: ServiceActions
    ) -> None:
        log.warning("chat turn failed after %d proposing calls; stored a note", len(actions.made))
        calls = [StoredToolCall(m.name, m.arguments, m.result) for m in actions.made]
        await self._store_assistant(user_id, account, INTERRUPTED_NOTE, calls, actions.proposal_ids)

    async def _store_assistant(
        self,
        user_id: UUID,
        account: Account,
        text: str,
        calls: list[StoredToolCall],
        proposal_ids: list[UUID],
    ) -> ChatMessageRecord:
        async with self._database.tenant(user_id) as conn:
            reply = await store.insert(
                conn,
                owner_id=user_id,
                account_id=account.id,
                role="ASSISTANT",
                text=text,
                tool_calls=calls,
            )
            await store.link_proposals(reply.id, account.id, proposal_ids)
            (linked,) = await store.with_proposals([reply])
        return linked


def _clean(text: str) -> str:
    """The engine's own rules, checked before the message is stored."""
    text = refuse_control_characters(text, field="text", line_breaks=True).strip()
    if not text:
        raise BadUserInput("Type a message first", field="text")
    if len(text) > MAX_TEXT_CHARS:
        raise BadUserInput(f"Messages are limited to {MAX_TEXT_CHARS} characters", field="text")
    return text
