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
    async with database.as_operator() as conn:
        progress.total = await conn.fetchval("select count(*) from app.broker_accounts")
    last_id = UUID(int=0)
    while True:
        async with database.as_operator() as conn:
            rows = await conn.fetch(
                """select id, key_id_encrypted, secret_encrypted from app.broker_accounts
                   where id > $1 order by id limit $2 for update""",
                last_id,
                batch_size,
            )
            for row in rows:
                stale = [
                    column
                    for column in ("key_id_encrypted", "secret_encrypted")
                    if not vault.is_current(row[column])
                ]
                if stale:
                    await conn.execute(
                        """update app.broker_accounts
                           set key_id_encrypted = $2, secret_encrypted = $3 where id = $1""",
                        row["id"],
                        vault.rotate(row["key_id_encrypted"]),
                        vault.rotate(row["secret_encrypted"]),
                    )
                    progress.rewritten += 1
            progress.seen += len(rows)
        if not rows:
            return progress
        last_id = rows[-1]["id"]
        on_batch(progress)
