"""Account limits and the halt, the guard audit trail, and how fresh a sign-in is.

Piccolo migration: raw SQL run as the database owner (RISK-01, RISK-03..05).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Account limits and the halt, the guard audit trail, sign-in freshness"

FORWARDS = """
-- One row per account that has limits or has been halted; no row means no limits
-- and not halted. Null in a limit column means no limit of that kind (RISK-01).
create table app.account_limits (
  account_id uuid primary key,
  owner_id uuid not null references app.users (id) on delete cascade,
  max_order_notional numeric check (max_order_notional >= 0),
  max_daily_loss numeric check (max_daily_loss >= 0),
  max_orders_per_day integer check (max_orders_per_day >= 0),
  allowed_symbols jsonb check (allowed_symbols is null or jsonb_typeof(allowed_symbols) = 'array'),
  denied_symbols jsonb not null default '[]' check (jsonb_typeof(denied_symbols) = 'array'),
  allow_short boolean,
  halted_at timestamptz,
  updated_at timestamptz not null default now(),
  foreign key (account_id, owner_id) references app.broker_accounts (id, owner_id) on delete cascade
);

-- Every guard decision, halt, resume and change of limits (RISK-05). It outlives the
-- account it names, like the order audit: the account id is cleared, the row stays.
create table app.guard_audit (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  account_id uuid,
  event text not null check (event in ('ALLOWED', 'REFUSED', 'HALTED', 'RESUMED', 'LIMITS_SET',
                                       'BROKER_CONFIGURATION_SET')),
  source text,
  client_order_id text,
  symbol text,
  guard text,
  limit_value text,
  value text,
  detail text,
  created_at timestamptz not null default clock_timestamp(),
  foreign key (account_id, owner_id) references app.broker_accounts (id, owner_id)
    on delete set null (account_id)
);
create index guard_audit_account_idx on app.guard_audit (account_id, created_at);

alter table app.account_limits enable row level security;
alter table app.account_limits force row level security;
create policy account_limits_owner on app.account_limits
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.guard_audit enable row level security;
alter table app.guard_audit force row level security;
create policy guard_audit_owner on app.guard_audit
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

grant select on app.account_limits to alpaca_chat_app;
grant insert (account_id, owner_id, max_order_notional, max_daily_loss, max_orders_per_day,
              allowed_symbols, denied_symbols, allow_short, halted_at, updated_at)
  on app.account_limits to alpaca_chat_app;
grant update (max_order_notional, max_daily_loss, max_orders_per_day, allowed_symbols,
              denied_symbols, allow_short, halted_at, updated_at)
  on app.account_limits to alpaca_chat_app;

-- Written once, never changed or removed by the runtime role.
grant select on app.guard_audit to alpaca_chat_app;
grant insert (owner_id, account_id, event, source, client_order_id, symbol, guard, limit_value,
              value, detail)
  on app.guard_audit to alpaca_chat_app;

-- When the session a token opens began (RISK-03: loosening a live account's limits
-- needs a fresh sign-in). By token hash, as app.session_user_id: the session id in a
-- token is only a claim, the hash proves which session it is.
grant select (created_at) on app.sessions to alpaca_chat_auth;
create function app.session_started_at(p_token_hash bytea)
  returns timestamptz
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select created_at from app.sessions
         where token_hash = p_token_hash and revoked_at is null and expires_at > now() $$;
alter function app.session_started_at(bytea) owner to alpaca_chat_auth;
revoke all on function app.session_started_at(bytea) from public;
grant execute on function app.session_started_at(bytea) to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.session_started_at(bytea);
revoke select (created_at) on app.sessions from alpaca_chat_auth;
drop table app.guard_audit;
drop table app.account_limits;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
