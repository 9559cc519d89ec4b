"""The accounts domain of the schema: connected broker accounts and their balances."""

from schema.accounts.mutation import AccountsMutation
from schema.accounts.query import AccountsQuery

__all__ = ["AccountsMutation", "AccountsQuery"]
