"""Proposals that are not one order: cancel every open order, close every position.

Piccolo migration: raw SQL run as the database owner (TRADE-02, RISK-05).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-01T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Proposal kinds (order, cancel_all, close_all); cancellations in the guard audit"

FORWARDS = """
-- "Cancel all" and "close all" from the chat wait for confirmOrder like any order
-- (api/trading/bulk.py); such a proposal's request lists what it acts on.
alter table app.order_proposals
  add column kind text not null default 'order'
    check (kind in ('order', 'cancel_all', 'close_all'));
grant insert (kind) on app.order_proposals to alpaca_chat_app;

-- A confirmed cancel-all is written to the trail with the orders it cancelled.
alter table app.guard_audit drop constraint guard_audit_event_check;
alter table app.guard_audit add constraint guard_audit_event_check
  check (event in ('ALLOWED', 'REFUSED', 'HALTED', 'RESUMED', 'LIMITS_SET',
                   'BROKER_CONFIGURATION_SET', 'ORDERS_CANCELED'));
"""

BACKWARDS = """
-- Rows written meanwhile stay: the old check is not validated against them.
alter table app.guard_audit drop constraint guard_audit_event_check;
alter table app.guard_audit add constraint guard_audit_event_check
  check (event in ('ALLOWED', 'REFUSED', 'HALTED', 'RESUMED', 'LIMITS_SET',
                   'BROKER_CONFIGURATION_SET')) not valid;
revoke insert (kind) on app.order_proposals from alpaca_chat_app;
delete from app.order_proposals where kind <> 'order';
alter table app.order_proposals drop column kind;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
