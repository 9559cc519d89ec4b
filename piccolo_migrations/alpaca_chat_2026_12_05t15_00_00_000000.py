"""The admin (first user) and the user directory, disabled users, each person's security log.

Piccolo migration: raw SQL run as the database owner (ADM-01, ADM-02, AUTH-03).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-05T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Admin and user directory, disabled users, revoked invites, the security log"

FORWARDS = """
-- The first user of an install is its admin; on an existing install, its oldest user.
-- The owner is subject to FORCE ROW LEVEL SECURITY too, so it is lifted for the one update.
alter table app.users add column is_admin boolean not null default false;
alter table app.users add column disabled_at timestamptz;
alter table app.users no force row level security;
update app.users set is_admin = true
 where id = (select id from app.users order by created_at, id limit 1);
alter table app.users force row level security;
grant select (is_admin, disabled_at) on app.users to alpaca_chat_app;

alter table app.invites add column revoked_at timestamptz;
grant select (revoked_at) on app.invites to alpaca_chat_app;

-- An admin reads the directory (emails, dates, counts; never keys nor what accounts
-- hold) and disables people, through the definer functions below only: for the
-- runtime role row-level security stays as it is, admin or not. They run as a narrow
-- NOLOGIN role, as the auth, operator and reconcile functions do, and each checks first
-- that the caller (app.user_id) is an enabled admin.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_directory') then
    create role alpaca_chat_directory nologin nosuperuser nobypassrls noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_seclog') then
    create role alpaca_chat_seclog nologin nosuperuser nobypassrls noinherit;
  end if;
end
$$;
grant alpaca_chat_directory to current_user;
grant alpaca_chat_seclog to current_user;
grant usage on schema app to alpaca_chat_directory, alpaca_chat_seclog;

grant select (id, email, created_at, is_admin, disabled_at) on app.users to alpaca_chat_directory;
grant update (disabled_at) on app.users to alpaca_chat_directory;
grant select (id, user_id, expires_at, last_seen_at, revoked_at) on app.sessions
  to alpaca_chat_directory;
grant update (revoked_at) on app.sessions to alpaca_chat_directory;
grant select (owner_id) on app.broker_accounts to alpaca_chat_directory;
grant select (id, created_by, created_at, expires_at, used_by, used_at, revoked_at)
  on app.invites to alpaca_chat_directory;
grant update (expires_at, revoked_at) on app.invites to alpaca_chat_directory;
create policy users_directory on app.users to alpaca_chat_directory using (true);
create policy sessions_directory on app.sessions to alpaca_chat_directory using (true);
create policy broker_accounts_directory on app.broker_accounts for select
  to alpaca_chat_directory using (true);
create policy invites_directory on app.invites to alpaca_chat_directory using (true);

-- Whatever a sign-up inserts, only the first user becomes an admin; app.sign_up's
-- advisory lock already makes "first" unambiguous.
create function app.first_user_is_admin() returns trigger
  language plpgsql security definer set search_path = pg_catalog, app
  as $$
begin
  new.is_admin := not exists (select 1 from app.users);
  return new;
end
$$;
create trigger users_first_is_admin before insert on app.users
  for each row execute function app.first_user_is_admin();

create function app.caller_is_admin() returns boolean
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select exists (select 1 from app.users
                        where id = nullif(current_setting('app.user_id', true), '')::uuid
                          and is_admin and disabled_at is null) $$;

create function app.directory_users(p_limit integer)
  returns table (id uuid, email text, created_at timestamptz, last_seen_at timestamptz,
                 account_count bigint, is_admin boolean, disabled_at timestamptz)
  language plpgsql stable security definer set search_path = pg_catalog, app
  as $$
#variable_conflict use_column
begin
  if not app.caller_is_admin() then
    raise exception 'admins only' using errcode = 'P0001', hint = 'forbidden';
  end if;
  return query
    select u.id, u.email, u.created_at,
           (select max(s.last_seen_at) from app.sessions s where s.user_id = u.id),
           (select count(*) from app.broker_accounts a where a.owner_id = u.id),
           u.is_admin, u.disabled_at
      from app.users u
     order by u.created_at, u.id
     limit least(greatest(p_limit, 1), 500);
end
$$;

-- Disabling revokes every session of the user and returns them, so the caller announces
-- each revocation in the same transaction (every process then closes its sockets).
create function app.directory_set_user_disabled(p_user_id uuid, p_disabled boolean)
  returns table (session_id uuid, user_id uuid)
  language plpgsql volatile security definer set search_path = pg_catalog, app
  as $$
#variable_conflict use_column
declare
  v_is_admin boolean;
begin
  -- serialised, so two admins disabling each other cannot leave no enabled admin
  perform pg_advisory_xact_lock(hashtext('app.directory_set_user_disabled'));
  if not app.caller_is_admin() then
    raise exception 'admins only' using errcode = 'P0001', hint = 'forbidden';
  end if;
  select u.is_admin into v_is_admin from app.users u where u.id = p_user_id for update;
  if not found then
    raise exception 'no such user' using errcode = 'P0001', hint = 'not_found';
  end if;
  if not p_disabled then
    update app.users u set disabled_at = null where u.id = p_user_id;
    return;
  end if;
  if v_is_admin and not exists (select 1 from app.users u
                                 where u.is_admin and u.disabled_at is null
                                   and u.id <> p_user_id) then
    raise exception 'the last admin cannot be disabled' using errcode = 'P0001',
      hint = 'last_admin';
  end if;
  update app.users u set disabled_at = coalesce(u.disabled_at, now()) where u.id = p_user_id;
  return query
    with revoked as (
      update app.sessions s set revoked_at = now()
       where s.user_id = p_user_id and s.revoked_at is null
       returning s.id, s.user_id
    )
    select revoked.id, revoked.user_id from revoked;
end
$$;

create function app.directory_invites(p_limit integer)
  returns table (id uuid, created_by_email text, created_at timestamptz, expires_at timestamptz,
                 used_by_email text, used_at timestamptz, status text)
  language plpgsql stable security definer set search_path = pg_catalog, app
  as $$
#variable_conflict use_column
begin
  if not app.caller_is_admin() then
    raise exception 'admins only' using errcode = 'P0001', hint = 'forbidden';
  end if;
  return query
    select i.id, creator.email, i.created_at, i.expires_at, spender.email, i.used_at,
           case when i.used_at is not null then 'USED'
                when i.revoked_at is not null then 'REVOKED'
                when i.expires_at <= now() then 'EXPIRED'
                else 'PENDING' end
      from app.invites i
      left join app.users creator on creator.id = i.created_by
      left join app.users spender on spender.id = i.used_by
     order by i.created_at desc, i.id
     limit least(greatest(p_limit, 1), 500);
end
$$;

-- Revoking ends the invite's life now: app.sign_up spends only unexpired invites.
create function app.directory_revoke_invite(p_invite_id uuid)
  returns void
  language plpgsql volatile security definer set search_path = pg_catalog, app
  as $$
begin
  if not app.caller_is_admin() then
    raise exception 'admins only' using errcode = 'P0001', hint = 'forbidden';
  end if;
  update app.invites i set revoked_at = now(), expires_at = now()
   where i.id = p_invite_id and i.used_at is null and i.revoked_at is null
     and i.expires_at > now();
  if found then
    return;
  end if;
  if exists (select 1 from app.invites i where i.id = p_invite_id) then
    raise exception 'invite is not pending' using errcode = 'P0001', hint = 'not_pending';
  end if;
  raise exception 'no such invite' using errcode = 'P0001', hint = 'not_found';
end
$$;

alter function app.first_user_is_admin() owner to alpaca_chat_directory;
alter function app.caller_is_admin() owner to alpaca_chat_directory;
alter function app.directory_users(integer) owner to alpaca_chat_directory;
alter function app.directory_set_user_disabled(uuid, boolean) owner to alpaca_chat_directory;
alter function app.directory_invites(integer) owner to alpaca_chat_directory;
alter function app.directory_revoke_invite(uuid) owner to alpaca_chat_directory;
revoke all on function app.first_user_is_admin(), app.caller_is_admin(),
  app.directory_users(integer), app.directory_set_user_disabled(uuid, boolean),
  app.directory_invites(integer), app.directory_revoke_invite(uuid) from public;
grant execute on function app.directory_users(integer),
  app.directory_set_user_disabled(uuid, boolean), app.directory_invites(integer),
  app.directory_revoke_invite(uuid) to alpaca_chat_app;

-- A disabled user signs in as if the password were wrong (same answer, same work) and
-- none of their tokens authenticates: both lookups skip disabled users.
grant select (disabled_at) on app.users to alpaca_chat_auth;
create or replace function app.login_lookup(p_email text)
  returns table (user_id uuid, password_hash text)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select id, password_hash from app.users
         where email = lower(btrim(p_email)) and disabled_at is null $$;

create or replace function app.session_user_id(p_token_hash bytea)
  returns uuid
  language plpgsql security definer set search_path = pg_catalog, app
  as $$
declare
  v_session app.sessions%rowtype;
begin
  -- only the granted columns: `select *` would need created_at and user_agent too
  select s.id, s.user_id, s.last_seen_at
    into v_session.id, v_session.user_id, v_session.last_seen_at
    from app.sessions s join app.users u on u.id = s.user_id
   where s.token_hash = p_token_hash and s.revoked_at is null and s.expires_at > now()
     and u.disabled_at is null;
  if not found then
    return null;
  end if;
  if v_session.last_seen_at < now() - interval '1 minute' then
    update app.sessions set last_seen_at = now() where id = v_session.id;
  end if;
  return v_session.user_id;
end
$$;

-- Each person's security log (ADM-02): sign-ins, keys, passkeys, limits, halts and
-- live confirmations. Details never hold a secret (api/auth/security_log.py).
create table app.security_events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app.users (id) on delete cascade,
  kind text not null check (char_length(kind) between 1 and 40),
  detail jsonb not null default '{}'
    check (jsonb_typeof(detail) = 'object' and octet_length(detail::text) <= 4000),
  at timestamptz not null default clock_timestamp()
);
create index security_events_user_idx on app.security_events (user_id, at desc);
create index security_events_at_idx on app.security_events (at);
alter table app.security_events enable row level security;
alter table app.security_events force row level security;
create policy security_events_owner on app.security_events
  using (user_id = app.current_user_id()) with check (user_id = app.current_user_id());
grant select (id, user_id, kind, detail, at) on app.security_events to alpaca_chat_app;
grant insert (user_id, kind, detail) on app.security_events to alpaca_chat_app;

-- A failed sign-in has no tenant scope yet: it is recorded for the email's owner, if
-- any, by a role that may only add such events and delete expired ones.
grant select (id, email) on app.users to alpaca_chat_seclog;
create policy users_seclog on app.users for select to alpaca_chat_seclog using (true);
grant select (at) on app.security_events to alpaca_chat_seclog;
grant insert (user_id, kind, detail), delete on app.security_events to alpaca_chat_seclog;
create policy security_events_seclog on app.security_events to alpaca_chat_seclog
  using (true) with check (kind = 'SIGN_IN_FAILED');

create function app.record_failed_sign_in(p_email text, p_detail jsonb)
  returns void
  language sql volatile security definer set search_path = pg_catalog, app
  as $$ insert into app.security_events (user_id, kind, detail)
        select id, 'SIGN_IN_FAILED', p_detail from app.users
         where email = lower(btrim(p_email)) $$;

-- Retention (SECURITY_LOG_DAYS): at least a day, whatever the caller asks.
create function app.prune_security_events(p_days integer)
  returns integer
  language plpgsql volatile security definer set search_path = pg_catalog, app
  as $$
declare
  v_deleted integer;
begin
  delete from app.security_events
   where at < now() - make_interval(days => greatest(p_days, 1));
  get diagnostics v_deleted = row_count;
  return v_deleted;
end
$$;

alter function app.record_failed_sign_in(text, jsonb) owner to alpaca_chat_seclog;
alter function app.prune_security_events(integer) owner to alpaca_chat_seclog;
revoke all on function app.record_failed_sign_in(text, jsonb),
  app.prune_security_events(integer) from public;
grant execute on function app.record_failed_sign_in(text, jsonb),
  app.prune_security_events(integer) to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.prune_security_events(integer);
drop function app.record_failed_sign_in(text, jsonb);
drop table app.security_events;

create or replace function app.session_user_id(p_token_hash bytea)
  returns uuid
  language plpgsql security definer set search_path = pg_catalog, app
  as $$
declare
  v_session app.sessions%rowtype;
begin
  -- only the granted columns: `select *` would need created_at and user_agent too
  select id, user_id, last_seen_at into v_session.id, v_session.user_id, v_session.last_seen_at
    from app.sessions
   where token_hash = p_token_hash and revoked_at is null and expires_at > now();
  if not found then
    return null;
  end if;
  if v_session.last_seen_at < now() - interval '1 minute' then
    update app.sessions set last_seen_at = now() where id = v_session.id;
  end if;
  return v_session.user_id;
end
$$;
create or replace function app.login_lookup(p_email text)
  returns table (user_id uuid, password_hash text)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select id, password_hash from app.users where email = lower(btrim(p_email)) $$;

drop trigger users_first_is_admin on app.users;
drop function app.directory_revoke_invite(uuid);
drop function app.directory_invites(integer);
drop function app.directory_set_user_disabled(uuid, boolean);
drop function app.directory_users(integer);
drop function app.caller_is_admin();
drop function app.first_user_is_admin();
drop policy users_seclog on app.users;
drop policy invites_directory on app.invites;
drop policy broker_accounts_directory on app.broker_accounts;
drop policy sessions_directory on app.sessions;
drop policy users_directory on app.users;
alter table app.invites drop column revoked_at;
alter table app.users drop column disabled_at;
alter table app.users drop column is_admin;
revoke all on all tables in schema app from alpaca_chat_directory, alpaca_chat_seclog;
revoke usage on schema app from alpaca_chat_directory, alpaca_chat_seclog;
do $$
begin
  revoke alpaca_chat_directory, alpaca_chat_seclog from current_user;
  drop role alpaca_chat_directory;
  drop role alpaca_chat_seclog;
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
