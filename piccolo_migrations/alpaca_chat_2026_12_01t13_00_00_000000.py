"""Proposals that replace an open order (ORD-02): live replaces wait for confirmOrder.

Piccolo migration: raw SQL run as the database owner.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-01T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Proposal kind replace"

FORWARDS = """
-- A replace proposal's request is the order as it will be, and the order it replaces.
alter table app.order_proposals drop constraint order_proposals_kind_check;
alter table app.order_proposals add constraint order_proposals_kind_check
  check (kind in ('order', 'cancel_all', 'close_all', 'replace'));
"""

BACKWARDS = """
delete from app.order_proposals where kind = 'replace';
alter table app.order_proposals drop constraint order_proposals_kind_check;
alter table app.order_proposals add constraint order_proposals_kind_check
  check (kind in ('order', 'cancel_all', 'close_all'));
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
