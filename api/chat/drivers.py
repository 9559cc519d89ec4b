"""The contract between the chat engine and whatever writes its replies.

Two drivers implement it: the offline command interpreter and the litellm
driver. They depend on this module, and the engine depends on it too, so the
engine never imports a driver's module to learn the contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from api.chat.contract import AccountContext, HistoryMessage
from api.chat.tools import ToolCall, ToolRegistry


@dataclass(frozen=True)
class DriverReply:
    """What a driver produced: the reply text and the tool calls it made, in order."""

    text: str
    tool_calls: Sequence[ToolCall] = ()
    # Why the driver stopped early, e.g. "tool_round_limit"; None for a normal answer.
    stopped: str | None = None


class ChatDriver(Protocol):
    """Something that answers one message using the turn's tools."""

    name: str

    async def reply(
        self,
        text: str,
        history: Sequence[HistoryMessage],
        account: AccountContext,
        tools: ToolRegistry,
    ) -> DriverReply: ...
