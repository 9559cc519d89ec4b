"""A user's broker accounts: connecting, naming, switching, removing (ACCT-01..05)."""

from api.accounts.records import AccountRecord
from api.accounts.service import AccountService

__all__ = ["AccountRecord", "AccountService"]
