"""The chat engine: tools bound to one account, a litellm driver and an offline interpreter.

The model never holds the steering wheel
(docs/architecture.md#decision-4-the-model-never-holds-the-steering-wheel). A turn's tools
are built over one `AccountActions` object that the server bound to the account
the user selected; no tool takes an account, so neither the model nor the text
it reads can choose or change it (TRADE-01). Orders become proposals.
"""

from api.chat.contract import AccountActions, AccountContext, HistoryMessage
from api.chat.engine import ChatEngine, Turn
from api.chat.errors import ChatUnavailable
from api.chat.tools import ToolCall, ToolRegistry, build_tools

__all__ = [
    "AccountActions",
    "AccountContext",
    "ChatEngine",
    "ChatUnavailable",
    "HistoryMessage",
    "ToolCall",
    "ToolRegistry",
    "Turn",
    "build_tools",
]
