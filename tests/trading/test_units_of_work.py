"""How many tenant transactions a confirmation costs: the account is read once (TRADE-05, ISO-01).

A confirmation reads the proposal and its account, claims the proposal, writes
the audit row before the order leaves and its outcome after, and records the
order on the proposal. Re-reading the account anywhere on that path shows up
here as a higher count.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from api.errors import ConfirmationRequired
from api.services import Services
from api.trading.orders import validate_intent
from api.vault import Vault
from tests.fixtures.postgres import TEST_CREDENTIALS_KEY
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.tenants import make_user, store_account
from tests.trading.conftest import CountingDatabase


async def test_confirm_order_reads_the_account_once(
    services: Services, counting_db: CountingDatabase, sandbox: SandboxHandle
) -> None:
    """TRADE-05, ISO-01, RISK-05: placing a live order costs 3 tenant transactions (the
    account, the limits' verdict with its audit row, the proposal) and confirming it 8 (the
    proposal, whether the person has a passkey (KEY-02), the account, the claim, the verdict,
    the audit row before and after sending, the proposal's outcome); one order reaches the
    broker."""
    minted = sandbox.mint_account("live")
    user = await make_user(counting_db, "confirm@example.test")
    stored = await store_account(
        counting_db,
        Vault([TEST_CREDENTIALS_KEY]),
        user,
        minted["api_key_id"],
        minted["secret_key"],
        environment="LIVE",
        account_number=minted["account_number"],
    )
    intent = validate_intent(symbol="AAPL", side="buy", qty="1")

    before = counting_db.tenant_transactions
    account = await services.accounts.resolve(user, stored.id)
    with pytest.raises(ConfirmationRequired) as asked:
        await services.trading.place_order(account, intent)
    proposing = counting_db.tenant_transactions - before
    proposal_id = UUID(asked.value.extensions["proposal"]["id"])

    before = counting_db.tenant_transactions
    order = await services.trading.confirm(user, proposal_id)
    confirming = counting_db.tenant_transactions - before

    assert order.client_order_id == str(proposal_id)
    assert sandbox.stats()[minted["account_number"]]["orders_received"] == 1
    assert (proposing, confirming) == (3, 8)
