"""One chat turn: the user's text in, the reply, the tool calls and the proposals out.

`ChatEngine` hides which driver answers: the litellm driver when `LLM_MODEL`
is set, the offline command interpreter otherwise (CHAT-02). Either way the
turn's tools are built here, over the `AccountActions` the caller bound to the
selected account, so no driver can reach anything else (TRADE-01). The caller
(the chat service behind `sendChatMessage`) stores the turn and maps it to
the GraphQL `ChatMessage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.chat.contract import AccountActions, AccountContext, HistoryMessage
from api.chat.drivers import ChatDriver
from api.chat.tools import ToolCall, build_tools
from api.errors import BadUserInput

if TYPE_CHECKING:
    from api.config import Settings

MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class Turn:
    """The result of one turn; everything in it is JSON-serialisable and secret-free.

    `proposals` are the ``proposal`` dicts returned by `propose_order` /
    `close_position` (see `AccountActions`), `orders` the ``order`` dicts of
    orders that were actually sent (paper auto-execute). `stopped` says why the
    model was cut short ("tool_round_limit"), else None.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    proposals: tuple[dict[str, Any], ...] = ()
    orders: tuple[dict[str, Any], ...] = ()
    stopped: str | None = None
    driver: str = field(default="interpreter")


class ChatEngine:
    """Runs turns with one driver; build it once per process with `from_settings`."""

    def __init__(self, driver: ChatDriver) -> None:
        self.driver = driver

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatEngine:
        """The litellm driver when LLM_MODEL is set, the offline interpreter otherwise (CHAT-02)."""
        if settings.llm_model:
            # api.chat.llm imports litellm only on the first call, so start-up stays fast.
            from api.chat.llm import LlmDriver

            return cls(LlmDriver.from_settings(settings))
        from api.chat.interpreter import Interpreter

        return cls(Interpreter())

    async def run_turn(
        self,
        text: str,
        history: Sequence[HistoryMessage],
        account: AccountContext,
        actions: AccountActions,
    ) -> Turn:
        """Answer `text` on the account `actions` is bound to (TRADE-01).

        Raises `BadUserInput` (field "text") for an empty or over-long message
        and `ChatUnavailable` (LLM_UNAVAILABLE) when the model cannot answer.
        """
        text = text.strip()
        if not text:
            raise BadUserInput("Type a message first", field="text")
        if len(text) > MAX_TEXT_CHARS:
            raise BadUserInput(f"Messages are limited to {MAX_TEXT_CHARS} characters", field="text")
        tools = build_tools(actions)
        reply = await self.driver.reply(text, history, account, tools)
        calls = tuple(reply.tool_calls)
        return Turn(
            text=reply.text,
            tool_calls=calls,
            proposals=tuple(_collect(calls, "proposal")),
            orders=tuple(_collect(calls, "order")),
            stopped=reply.stopped,
            driver=self.driver.name,
        )


def _collect(calls: Sequence[ToolCall], key: str) -> list[dict[str, Any]]:
    found = []
    for call in calls:
        value = call.result.get(key) if call.ok else None
        if isinstance(value, dict):
            found.append(value)
    return found
