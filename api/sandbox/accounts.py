"""Keys and accounts: minting them, revoking keys, and authenticating a key pair.

A key pair belongs to exactly one account of one environment; a paper key is
unknown to ``/live`` and vice versa, as on Alpaca. Secrets are compared in
constant time and never logged; the minted pair is handed out once.
"""

from __future__ import annotations

import hmac
import secrets
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from api.sandbox.assets import find_asset
from api.sandbox.clock import now
from api.sandbox.errors import not_found, unprocessable
from api.sandbox.prices import CENT
from api.sandbox.records import EquitySample, SandboxAccount, SandboxPosition
from api.sandbox.valuation import Valuation

ENVIRONMENTS = ("paper", "live")
_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_KEY_PREFIX = {"paper": "PK", "live": "AK"}


@dataclass(frozen=True, slots=True)
class MintedKeys:
    api_key_id: str
    secret_key: str
    account_number: str
    environment: str

    def as_dict(self) -> dict[str, str]:
        return {
            "api_key_id": self.api_key_id,
            "secret_key": self.secret_key,
            "account_number": self.account_number,
            "environment": self.environment,
        }


@dataclass(slots=True)
class _Credential:
    keys: MintedKeys
    revoked: bool = False


class AccountRegistry:
    """Every account of one sandbox and the keys that open them."""

    def __init__(self, valuation: Valuation) -> None:
        self._valuation = valuation
        self.by_number: dict[str, SandboxAccount] = {}
        self._credentials: dict[str, _Credential] = {}

    def mint(
        self,
        environment: str,
        cash: Decimal,
        positions: Iterable[tuple[str, Decimal, Decimal]] = (),
        shorting_enabled: bool = False,
    ) -> MintedKeys:
        """Create an account with its own key pair; positions are (symbol, qty, avg_entry_price)."""
        if environment not in ENVIRONMENTS:
            raise unprocessable("environment must be paper or live")
        account = SandboxAccount(
            id=uuid.uuid4(),
            account_number=self._new_account_number(environment),
            environment=environment,
            cash=cash.quantize(CENT, ROUND_HALF_UP),
            created_at=now(),
            shorting_enabled=shorting_enabled,
        )
        for symbol, qty, avg in positions:
            asset = find_asset(symbol)
            if asset is None:
                raise unprocessable(f'asset "{symbol}" not found')
            account.positions[asset.symbol] = SandboxPosition(asset, qty, avg)
        # last_equity is the equity the account started with, so day P/L starts at zero.
        account.starting_equity = self._valuation.equity(account)
        account.equity_samples.append(EquitySample(account.created_at, account.starting_equity))
        self.by_number[account.account_number] = account
        return self._issue_keys(account)

    def _issue_keys(self, account: SandboxAccount) -> MintedKeys:
        key_id = _KEY_PREFIX[account.environment] + _random(_KEY_ALPHABET, 18)
        while key_id in self._credentials:
            key_id = _KEY_PREFIX[account.environment] + _random(_KEY_ALPHABET, 18)
        keys = MintedKeys(
            key_id, _random(_SECRET_ALPHABET, 40), account.account_number, account.environment
        )
        self._credentials[key_id] = _Credential(keys)
        return keys

    def _new_account_number(self, environment: str) -> str:
        while True:
            if environment == "paper":
                number = "PA" + _random(_KEY_ALPHABET, 10)
            else:
                number = str(100_000_000 + secrets.randbelow(900_000_000))
            if number not in self.by_number:
                return number

    def revoke(self, account_number: str) -> int:
        """Stop every key of an account from working; returns how many were revoked."""
        if account_number not in self.by_number:
            raise not_found("account not found")
        revoked = 0
        for credential in self._credentials.values():
            if credential.keys.account_number == account_number and not credential.revoked:
                credential.revoked = True
                revoked += 1
        return revoked

    def account_for_key(self, key_id: str | None) -> SandboxAccount | None:
        """The account a key id names, without checking the secret (for call statistics)."""
        credential = self._credentials.get(key_id or "")
        return self.by_number.get(credential.keys.account_number) if credential else None

    def authenticate(
        self, key_id: str | None, secret: str | None, environment: str | None
    ) -> SandboxAccount | None:
        """The account for a valid, unrevoked key pair of ``environment`` (None: either)."""
        credential = self._credentials.get(key_id or "")
        if credential is None or credential.revoked or secret is None:
            return None
        keys = credential.keys
        if not hmac.compare_digest(keys.secret_key.encode(), secret.encode()):
            return None
        if environment is not None and keys.environment != environment:
            return None
        return self.by_number[keys.account_number]


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))
