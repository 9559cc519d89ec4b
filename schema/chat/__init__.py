"""The chat domain of the schema: sendChatMessage and chatHistory (CHAT-01..03)."""

from schema.chat.mutation import ChatMutation
from schema.chat.query import ChatQuery

__all__ = ["ChatMutation", "ChatQuery"]
