"""The executor of our schema: graphql-core's, as Strawberry subclasses it.

Queries run by their plan, worked out once per document (schema/plans.py); what
has no plan, and every mutation and subscription, runs on graphql-core's own
execution. Subscription events are shared among the subscribers that asked the
same thing (schema/realtime/execution.py). In production errors also never
suggest names ("Did you mean ..."), so a wrong enum value or input field does
not list the right ones (schema/guards.py does the same for validation).
"""

from __future__ import annotations

from typing import Any

from schema.plans import Run, plan_of
from schema.realtime.execution import SharedEventExecutor


class PlannedExecutor(SharedEventExecutor):
    """Runs a query by its plan when it has one (schema/plans.py)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        # Strawberry hands every operation a middleware manager, empty unless an
        # extension resolves fields
        middleware = self.middleware_manager
        plan = (
            plan_of(self.schema, self.operation, self.fragment_definitions)
            if serially is None
            and (middleware is None or not middleware.middlewares)
            and self.hooks is None
            and self.abort_signal is None
            else None
        )
        if plan is None:
            return super().execute_operation(serially)
        run = Run(
            # Strawberry's resolve info, the one its resolvers expect (tests/test_internals.py)
            build_info=self.build_resolve_info,
            field_resolver=self.field_resolver,
            type_resolver=self.type_resolver,
            variable_values=self.variable_values,
            is_awaitable=self.is_awaitable,
            is_async_iterable=self.is_async_iterable,
            hide_suggestions=self.hide_suggestions,
        )
        return run.result(plan, self.root_value)


class QuietExecutor(PlannedExecutor):
    """PlannedExecutor whose errors never suggest names: for production."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        # graphql-core's execute and subscribe pass `hide_suggestions` by keyword
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
