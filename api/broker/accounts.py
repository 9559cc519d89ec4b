"""Reading one stored broker account, still encrypted, as the user who owns it."""

from __future__ import annotations

from uuid import UUID

from api.broker.models import AccountRef
from api.db import Database


async def load_account_ref(
    database: Database, user_id: UUID, account_id: UUID
) -> AccountRef | None:
    """The account if ``user_id`` owns it, else None (another user's id looks absent).

    Row-level security hides other tenants' rows; the owner comparison is the
    second lock in case a policy is ever loosened.
    """
    async with database.tenant(user_id) as conn:
        row = await conn.fetchrow(
            """select id, owner_id, environment, key_id_encrypted, secret_encrypted
                 from app.broker_accounts where id = $1""",
            account_id,
        )
    if row is None or row["owner_id"] != user_id:
        return None
    return AccountRef(
        id=row["id"],
        owner_id=row["owner_id"],
        environment=row["environment"],
        key_id_encrypted=bytes(row["key_id_encrypted"]),
        secret_encrypted=bytes(row["secret_encrypted"]),
    )
