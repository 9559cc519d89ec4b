"""Key rotation: re-encrypt every stored credential under the newest key.

Runs while servers keep serving (MultiFernet still reads the old key), in
batches of one transaction each, walking rows in id order. Rows already under
the newest key are skipped, so an interrupted run is finished by running it
again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from api.db.database import Database
from api.db.tables import BrokerAccount
from api.vault import Vault


@dataclass
class RotationProgress:
    seen: int = 0
    rewritten: int = 0
    total: int = 0


async def rotate_credentials(
    database: Database,
    vault: Vault,
    *,
    batch_size: int = 100,
    on_batch: Callable[[RotationProgress], None] = lambda progress: None,
) -> RotationProgress:
    progress = RotationProgress()
    async with database.as_operator():
        progress.total = await BrokerAccount.count()
    last_id = UUID(int=0)
    while True:
        async with database.as_operator():
            rows = (
                await BrokerAccount.select(
                    BrokerAccount.id, BrokerAccount.key_id_encrypted, BrokerAccount.secret_encrypted
                )
                .where(BrokerAccount.id > last_id)
                .order_by(BrokerAccount.id)
                .limit(batch_size)
                .lock_rows("UPDATE")
            )
            for row in rows:
                key_id, secret = row["key_id_encrypted"], row["secret_encrypted"]
                if not (vault.is_current(key_id) and vault.is_current(secret)):
                    await BrokerAccount.update(
                        {
                            BrokerAccount.key_id_encrypted: vault.rotate(key_id),
                            BrokerAccount.secret_encrypted: vault.rotate(secret),
                        }
                    ).where(BrokerAccount.id == row["id"])
                    progress.rewritten += 1
            progress.seen += len(rows)
        if not rows:
            return progress
        last_id = rows[-1]["id"]
        on_batch(progress)
