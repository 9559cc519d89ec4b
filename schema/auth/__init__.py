"""The auth domain of the schema: users, sessions, invites."""

from schema.auth.mutation import AuthMutation
from schema.auth.query import AuthQuery
from schema.auth.subscription import AuthSubscription

__all__ = ["AuthMutation", "AuthQuery", "AuthSubscription"]
