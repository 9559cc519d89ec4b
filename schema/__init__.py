"""The GraphQL schema: root types that only combine the domains.

Adding a domain is one import and one base class per root below. The schema
is built once per process (`build_schema`); `schema` is the default build,
used to export the SDL:

    python -m schema
"""

from __future__ import annotations

from functools import cache, partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.accounts import AccountsMutation, AccountsQuery
from schema.admin import AdminMutation, AdminQuery
from schema.auth import AuthMutation, AuthQuery, AuthSubscription
from schema.chat import ChatMutation, ChatQuery
from schema.errors import log_errors
from schema.executor import PlannedExecutor, QuietExecutor
from schema.guards import COST_RULES
from schema.history import HistoryMutation, HistoryQuery
from schema.notify import NotifyMutation, NotifyQuery
from schema.pipeline import RequestPipeline
from schema.realtime import RealtimeSubscription
from schema.scalars import SCALAR_MAP
from schema.trading import TradingMutation, TradingQuery
from schema.trusted import Documents, TrustedDocuments


@strawberry.type
class Query(
    AuthQuery, AccountsQuery, TradingQuery, HistoryQuery, ChatQuery, NotifyQuery, AdminQuery
):
    pass


@strawberry.type
class Mutation(
    AuthMutation,
    AccountsMutation,
    TradingMutation,
    HistoryMutation,
    ChatMutation,
    NotifyMutation,
    AdminMutation,
):
    pass


@strawberry.type
class Subscription(AuthSubscription, RealtimeSubscription):
    pass


class AppSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context.context if execution_context else None)


def cost_rules() -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias limits as validation rules (also used by bench/validation_cost.py)."""
    return COST_RULES


@cache
def build_schema(*, production: bool = False) -> AppSchema:
    """The schema; in production suggestions ("did you mean ...") are off everywhere and
    introspection is for signed-in clients only (schema/guards.py). The PWA's documents
    are parsed and validated here, once (schema/trusted.py)."""
    trusted = TrustedDocuments()
    documents = Documents(trusted)
    built = AppSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # one extension does what Strawberry's token limiter, validation rules, parser and
        # validation caches, MaskErrors and our metrics would (schema/pipeline.py)
        extensions=[partial(RequestPipeline, documents, production=production)],
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALAR_MAP),
        execution_context_class=QuietExecutor if production else PlannedExecutor,
    )
    # `_schema` is the GraphQLSchema Strawberry built; schema/guards.py validates on it too
    trusted.load(built._schema, hide_suggestions=production)
    return built


def __getattr__(name: str) -> AppSchema:
    if name == "schema":
        return build_schema()
    raise AttributeError(name)
