"""Push subscriptions, notification settings, push deliveries and the push role.

Piccolo migration: raw SQL run as the database owner (PUSH-01..03).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-02T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Push subscriptions, notification settings, push deliveries, the push role"

FORWARDS = """
-- One row per device a person turned notifications on for (PUSH-01). The endpoint
-- is the push service's capability URL for that browser: unique across users, so a
-- device someone else signs in on stops receiving the previous person's events.
create table app.push_subscriptions (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  endpoint text not null check (char_length(endpoint) between 1 and 1024),
  p256dh text not null check (char_length(p256dh) between 1 and 200),
  auth text not null check (char_length(auth) between 1 and 100),
  user_agent text,
  created_at timestamptz not null default now(),
  last_success_at timestamptz,
  failures integer not null default 0,
  unique (id, owner_id)
);
create unique index push_subscriptions_endpoint_key on app.push_subscriptions (endpoint);
create index push_subscriptions_owner_idx on app.push_subscriptions (owner_id);

-- What a person wants to hear of; no row means everything, amounts shown.
create table app.notification_settings (
  owner_id uuid primary key references app.users (id) on delete cascade,
  muted_kinds jsonb not null default '[]' check (jsonb_typeof(muted_kinds) = 'array'),
  hide_amounts boolean not null default false,
  updated_at timestamptz not null default now()
);

-- One row per (event, device): every server process hears every event, and only
-- the one whose insert wins sends that device its notification (PUSH-03).
create table app.push_deliveries (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  subscription_id uuid not null,
  event_id text not null,
  kind text not null,
  status text not null default 'CLAIMED' check (status in ('CLAIMED', 'SENT', 'GONE', 'FAILED')),
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (event_id, subscription_id),
  foreign key (subscription_id, owner_id) references app.push_subscriptions (id, owner_id)
    on delete cascade
);
create index push_deliveries_owner_idx on app.push_deliveries (owner_id, created_at);

alter table app.push_subscriptions enable row level security;
alter table app.push_subscriptions force row level security;
create policy push_subscriptions_owner on app.push_subscriptions
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.notification_settings enable row level security;
alter table app.notification_settings force row level security;
create policy notification_settings_owner on app.notification_settings
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.push_deliveries enable row level security;
alter table app.push_deliveries force row level security;
create policy push_deliveries_owner on app.push_deliveries
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

grant select, delete on app.push_subscriptions to alpaca_chat_app;
grant insert (owner_id, endpoint, p256dh, auth, user_agent) on app.push_subscriptions
  to alpaca_chat_app;
grant update (p256dh, auth, user_agent, last_success_at, failures) on app.push_subscriptions
  to alpaca_chat_app;

grant select on app.notification_settings to alpaca_chat_app;
grant insert (owner_id, muted_kinds, hide_amounts, updated_at) on app.notification_settings
  to alpaca_chat_app;
grant update (muted_kinds, hide_amounts, updated_at) on app.notification_settings
  to alpaca_chat_app;

grant select, delete on app.push_deliveries to alpaca_chat_app;
grant insert (owner_id, subscription_id, event_id, kind) on app.push_deliveries
  to alpaca_chat_app;
grant update (status, attempts, updated_at) on app.push_deliveries to alpaca_chat_app;

-- The two things push needs across tenants run as a narrow NOLOGIN role, as the
-- auth and operator functions do: which accounts have an owner with a device to
-- notify (their streams run while the app is closed), and handing an endpoint over
-- to whoever now uses that browser.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_push') then
    create role alpaca_chat_push nologin nosuperuser nobypassrls noinherit;
  end if;
end
$$;
grant alpaca_chat_push to current_user;
grant usage on schema app to alpaca_chat_push;
grant select (id, owner_id) on app.broker_accounts to alpaca_chat_push;
grant select (owner_id, endpoint), delete on app.push_subscriptions to alpaca_chat_push;
create policy broker_accounts_push on app.broker_accounts for select to alpaca_chat_push
  using (true);
create policy push_subscriptions_push on app.push_subscriptions to alpaca_chat_push using (true);

create function app.push_watch_list()
  returns table (owner_id uuid, account_id uuid)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select a.owner_id, a.id from app.broker_accounts a
         where exists (select 1 from app.push_subscriptions s where s.owner_id = a.owner_id) $$;
alter function app.push_watch_list() owner to alpaca_chat_push;
revoke all on function app.push_watch_list() from public;
grant execute on function app.push_watch_list() to alpaca_chat_app;

-- Knowing an endpoint proves holding the browser it names (it is an unguessable
-- capability URL): the signed-in user takes it over from anyone else.
create function app.take_push_endpoint(p_endpoint text)
  returns void
  language sql security definer set search_path = pg_catalog, app
  as $$ delete from app.push_subscriptions
         where endpoint = p_endpoint and app.current_user_id() is not null
           and owner_id <> app.current_user_id() $$;
alter function app.take_push_endpoint(text) owner to alpaca_chat_push;
revoke all on function app.take_push_endpoint(text) from public;
grant execute on function app.take_push_endpoint(text) to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.take_push_endpoint(text);
drop function app.push_watch_list();
drop policy broker_accounts_push on app.broker_accounts;
revoke select (id, owner_id) on app.broker_accounts from alpaca_chat_push;
revoke usage on schema app from alpaca_chat_push;
drop table app.push_deliveries;
drop table app.notification_settings;
drop table app.push_subscriptions;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
