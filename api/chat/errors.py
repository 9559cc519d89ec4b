"""The chat's expected failures, as coded errors the GraphQL layer passes through.

A provider that is down, slow or answering nonsense is an expected failure of
the chat, not a bug: it becomes `LLM_UNAVAILABLE` with a message that says what
happened in plain words. The message never carries the provider's own error
text, because that text can echo the request (an API base URL with
credentials, a key fragment, the prompt with account data).
"""

from __future__ import annotations

from api.errors import LlmUnavailable


class ChatUnavailable(LlmUnavailable):
    """The chat model could not produce a reply; `code` is `LLM_UNAVAILABLE`."""

    def __init__(self, message: str = "The chat model is not reachable right now") -> None:
        super().__init__(message)
