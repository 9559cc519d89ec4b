"""Nothing lost across a crash: unfinished order attempts and what streams reported.

Piccolo migration: raw SQL run as the database owner (TRADE-05, RT-01, RT-03).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-04T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unfinished order attempts for the reconciler, stream marks, the reconcile role"

FORWARDS = """
-- An order whose outcome was never recorded (the process or the database died between
-- sending it and writing what the broker said) is settled later from the broker's record
-- (api/trading/reconcile.py). Such rows belong to any tenant, so the one read across
-- tenants runs as a narrow NOLOGIN role, as the auth, operator and push functions do.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_reconcile') then
    create role alpaca_chat_reconcile nologin nosuperuser nobypassrls noinherit;
  end if;
end
$$;
grant alpaca_chat_reconcile to current_user;
grant usage on schema app to alpaca_chat_reconcile;
grant select (id, owner_id, account_id, client_order_id, outcome, updated_at)
  on app.order_audit to alpaca_chat_reconcile;
create policy order_audit_reconcile on app.order_audit for select to alpaca_chat_reconcile
  using (true);
create index order_audit_unfinished_idx on app.order_audit (updated_at)
  where outcome in ('ATTEMPTED', 'UNKNOWN');

-- Ids and owners only: each row is then read and settled in its owner's tenant scope.
create function app.unfinished_order_audits(p_older_than interval, p_limit integer)
  returns table (id uuid, owner_id uuid, account_id uuid, client_order_id text,
                 updated_at timestamptz)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select a.id, a.owner_id, a.account_id, a.client_order_id, a.updated_at
          from app.order_audit a
         where a.outcome in ('ATTEMPTED', 'UNKNOWN') and a.account_id is not null
           and a.updated_at < now() - p_older_than
         order by a.updated_at
         limit least(greatest(p_limit, 1), 500) $$;
alter function app.unfinished_order_audits(interval, integer) owner to alpaca_chat_reconcile;
revoke all on function app.unfinished_order_audits(interval, integer) from public;
grant execute on function app.unfinished_order_audits(interval, integer) to alpaca_chat_app;

-- Up to when every order change of an account was reported to its subscribers: the
-- stream owner moves it forward while its stream listens, and whoever owns the stream
-- next (after a restart, in another process) reports what changed since (RT-01, RT-03).
create table app.stream_marks (
  account_id uuid primary key,
  owner_id uuid not null references app.users (id) on delete cascade,
  reported_through timestamptz not null,
  foreign key (account_id, owner_id) references app.broker_accounts (id, owner_id)
    on delete cascade
);
alter table app.stream_marks enable row level security;
alter table app.stream_marks force row level security;
create policy stream_marks_owner on app.stream_marks
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());
grant select on app.stream_marks to alpaca_chat_app;
grant insert (account_id, owner_id, reported_through) on app.stream_marks to alpaca_chat_app;
grant update (reported_through) on app.stream_marks to alpaca_chat_app;
"""

BACKWARDS = """
drop table app.stream_marks;
drop function app.unfinished_order_audits(interval, integer);
drop index app.order_audit_unfinished_idx;
drop policy order_audit_reconcile on app.order_audit;
revoke all on app.order_audit from alpaca_chat_reconcile;
revoke usage on schema app from alpaca_chat_reconcile;
do $$
begin
  revoke alpaca_chat_reconcile from current_user;
  drop role alpaca_chat_reconcile;
exception when dependent_objects_still_exist or undefined_object then
  null;
end
$$;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
