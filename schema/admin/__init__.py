"""The admin domain of the schema (ADM-01): the user directory and invites."""

from schema.admin.mutation import AdminMutation
from schema.admin.query import AdminQuery

__all__ = ["AdminMutation", "AdminQuery"]
