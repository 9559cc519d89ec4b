"""The litellm driver: any chat model with tool calling answers on the bound account (CHAT-01/02).

Configuration (read once into `Settings`):

* ``LLM_MODEL`` names a litellm model, e.g. ``openai/gpt-4o-mini`` or
  ``anthropic/claude-sonnet-4-5``; hosted providers read their own variables
  (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ...), as litellm documents.
* ``LLM_API_BASE`` points at any OpenAI-compatible server instead:
  ``LLM_MODEL=openai/llama3.1 LLM_API_BASE=http://localhost:11434/v1`` drives
  a local Ollama, the same shape works for vLLM or LM Studio.

Bounds, because a turn holds a user's request open and a model can misbehave:
the last `history_window` messages only, at most `max_tool_rounds` rounds of
tool calls (then the turn stops with a clear message), at most
`max_tool_calls` calls per turn, a timeout per model call and no retries by
default (a retry doubles the wait; the user can simply send again).

litellm is imported on the first call, not at module import: it takes seconds
to import, and the server must be ready in two (docs/architecture.md#performance-budget). Its
model price map is never fetched from the network (LITELLM_LOCAL_MODEL_COST_MAP),
and its own loggers are held at WARNING because at DEBUG they print whole
prompts, which hold account data.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from api.chat.contract import AccountContext, HistoryMessage
from api.chat.drivers import DriverReply
from api.chat.errors import ChatUnavailable
from api.chat.prompts import system_prompt
from api.chat.tools import ToolCall, ToolRegistry

if TYPE_CHECKING:
    from api.config import Settings

# Before anything can import litellm: it must never fetch its model price map.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

log = logging.getLogger(__name__)

HISTORY_WINDOW = 20
MAX_TOOL_ROUNDS = 5
MAX_TOOL_CALLS = 12
TIMEOUT_SECONDS = 60.0
MAX_HISTORY_CHARS = 4000
# The outer guard, for the rare case litellm's own timeout does not fire (e.g. a slow body).
TIMEOUT_GRACE_SECONDS = 5.0

ROUND_LIMIT_MESSAGE = (
    "I stopped after {rounds} rounds of tool calls without reaching an answer, so nothing "
    "more was done. The calls made so far are listed below; please ask again, more "
    "specifically."
)
EMPTY_REPLY = "The model returned no answer. Please try again."


@functools.cache
def _litellm() -> ModuleType:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    import litellm

    # No "Give Feedback / Get Help" banners on stdout, no prompts handed to logging callbacks.
    litellm.suppress_debug_info = True
    litellm.turn_off_message_logging = True
    litellm.telemetry = False
    return litellm


@dataclass(frozen=True)
class _Requested:
    id: str
    name: str
    arguments: str


class LlmDriver:
    """Answers with a litellm model, using the turn's tools in OpenAI's format."""

    name = "llm"

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        num_retries: int = 0,
        history_window: int = HISTORY_WINDOW,
        max_tool_rounds: int = MAX_TOOL_ROUNDS,
        max_tool_calls: int = MAX_TOOL_CALLS,
    ) -> None:
        self.model = model
        self.api_base = api_base
        self._api_key = api_key
        self.timeout = timeout
        self.num_retries = num_retries
        self.history_window = history_window
        self.max_tool_rounds = max_tool_rounds
        self.max_tool_calls = max_tool_calls

    def __repr__(self) -> str:
        return f"LlmDriver(model={self.model!r}, api_base={self.api_base!r})"

    @classmethod
    def from_settings(cls, settings: Settings) -> LlmDriver:
        if not settings.llm_model:
            raise ValueError("LlmDriver needs settings.llm_model (LLM_MODEL)")
        return cls(settings.llm_model, api_base=settings.llm_api_base)

    def messages(
        self, text: str, history: Sequence[HistoryMessage], account: AccountContext
    ) -> list[dict[str, Any]]:
        """System prompt, the bounded history window, then the user's message."""
        window = list(history)[-self.history_window :] if self.history_window > 0 else []
        return [
            {"role": "system", "content": system_prompt(account)},
            *(
                {"role": m.role, "content": m.text[:MAX_HISTORY_CHARS]}
                for m in window
                if m.role in {"user", "assistant"} and m.text
            ),
            {"role": "user", "content": text},
        ]

    async def reply(
        self,
        text: str,
        history: Sequence[HistoryMessage],
        account: AccountContext,
        tools: ToolRegistry,
    ) -> DriverReply:
        messages = self.messages(text, history, account)
        definitions = tools.openai_tools()
        calls: list[ToolCall] = []
        rounds = 0
        # The model call after the last allowed round is only for the answer.
        while True:
            content, requested = await self._complete(messages, definitions)
            if not requested:
                return DriverReply(content or EMPTY_REPLY, calls)
            if rounds >= self.max_tool_rounds:
                break
            rounds += 1
            messages.append(_assistant_message(content, requested))
            for request in requested:
                if len(calls) >= self.max_tool_calls:
                    # Every tool_call_id needs an answer, or the provider rejects the next call.
                    result = {"error": {"code": "LIMIT", "message": "Too many tool calls."}}
                    messages.append(_tool_message(request.id, json.dumps(result)))
                    continue
                call = await tools.execute(request.name, request.arguments)
                calls.append(call)
                messages.append(_tool_message(request.id, call.for_model()))
        log.warning("chat model stopped after %d tool rounds", self.max_tool_rounds)
        return DriverReply(
            ROUND_LIMIT_MESSAGE.format(rounds=self.max_tool_rounds),
            calls,
            stopped="tool_round_limit",
        )

    async def _complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> tuple[str, list[_Requested]]:
        litellm = _litellm()
        import openai  # litellm's own dependency; its exception classes are litellm's bases

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "tools": tools,
            "timeout": self.timeout,
            "num_retries": self.num_retries,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        try:
            async with asyncio.timeout(self.timeout + TIMEOUT_GRACE_SECONDS):
                response = await litellm.acompletion(**kwargs)
            return _parse(response)
        # Messages are ours, never the provider's text: that can echo URLs, keys or the prompt.
        except (TimeoutError, openai.APITimeoutError):
            _log_failure("timeout", None)
            raise ChatUnavailable(
                f"The chat model did not answer within {self.timeout:g} seconds"
            ) from None
        except openai.APIStatusError as exc:
            _log_failure(type(exc).__name__, exc.status_code)
            raise ChatUnavailable(_status_message(exc.status_code)) from None
        except openai.APIConnectionError as exc:
            _log_failure(type(exc).__name__, None)
            raise ChatUnavailable("The chat model could not be reached") from None
        except openai.OpenAIError as exc:
            _log_failure(type(exc).__name__, getattr(exc, "status_code", None))
            raise ChatUnavailable("The chat model failed to answer") from None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # litellm raises these while converting a malformed provider reply.
            _log_failure(type(exc).__name__, None)
            raise ChatUnavailable("The chat model sent a reply that could not be read") from None


def _status_message(status: int | None) -> str:
    if status in {401, 403}:
        return f"The chat model refused the server's credentials (HTTP {status})"
    if status == 429:
        return "The chat model is busy or over its quota (HTTP 429); try again shortly"
    if status is None:
        return "The chat model answered with an error"
    return f"The chat model answered with an error (HTTP {status})"


def _log_failure(kind: str, status: int | None) -> None:
    log.warning("chat model call failed: %s%s", kind, f" (HTTP {status})" if status else "")


def _parse(response: Any) -> tuple[str, list[_Requested]]:
    """Text and requested tool calls of a completion; raises ValueError when malformed."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise ValueError("no choices")
    message = choices[0].message
    content = message.content
    if content is not None and not isinstance(content, str):
        raise ValueError("content is not text")
    requested = []
    for index, call in enumerate(getattr(message, "tool_calls", None) or []):
        function = call.function
        arguments = function.arguments
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments)
        requested.append(
            _Requested(
                id=str(call.id or f"call_{index}"),
                name=str(function.name or ""),
                arguments=str(arguments or ""),
            )
        )
    return (content or "").strip(), requested


def _assistant_message(content: str, requested: list[_Requested]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content or None,
        "tool_calls": [
            {
                "id": r.id,
                "type": "function",
                "function": {"name": r.name, "arguments": r.arguments},
            }
            for r in requested
        ],
    }


def _tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}
