"""The executor of our schema: graphql-core's, as Strawberry subclasses it.

It shares each subscription event's execution among the subscribers that asked
the same thing (schema/realtime/execution.py); in production it also never
suggests names ("Did you mean ..."), so a wrong enum value or input field does
not list the right ones (schema/guards.py does the same for validation).
"""

from __future__ import annotations

from typing import Any

from schema.realtime.execution import SharedEventExecutor


class QuietExecutor(SharedEventExecutor):
    """SharedEventExecutor whose errors never suggest names: for production."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        # graphql-core's execute and subscribe pass `hide_suggestions` by keyword
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
