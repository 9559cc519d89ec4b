"""A user's broker accounts: connecting, naming, switching, removing (ACCT-01..05)."""

from api.accounts.records import Account, AccountRecord
from api.accounts.service import AccountService

__all__ = ["Account", "AccountRecord", "AccountService"]
