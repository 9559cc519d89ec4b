"""A token's true session, and sign-in and sign-up attempts counted for every instance.

Piccolo migration: raw SQL run as the database owner (AUTH-02, AUTH-03).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-01T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The session of a token hash; attempt counters shared by every instance"

FORWARDS = """
-- AUTH-03: the session a token's secret belongs to, and its user. Whether the session
-- still authenticates (unrevoked, unexpired, and whatever else app.session_user_id
-- demands) is that function's to say, so the rule lives in one place.
create function app.session_of(p_token_hash bytea)
  returns table (session_id uuid, user_id uuid)
  language sql security definer set search_path = pg_catalog, app
  as $$ select s.id, s.user_id from app.sessions s
         where s.token_hash = p_token_hash and s.user_id = app.session_user_id(p_token_hash) $$;
alter function app.session_of(bytea) owner to alpaca_chat_auth;
revoke all on function app.session_of(bytea) from public;
grant execute on function app.session_of(bytea) to alpaca_chat_app;

-- AUTH-02: attempts per (limit, key) in a fixed window that starts at the first attempt,
-- shared by every server instance. A key (an email, a client address) arrives hashed
-- together with its bucket's name. The runtime role has no grant on the table: only the
-- definer functions below touch it.
create table app.auth_attempts (
  key_hash bytea primary key check (octet_length(key_hash) = 32),
  bucket text not null check (char_length(bucket) between 1 and 40),
  window_start timestamptz not null,
  attempts integer not null check (attempts >= 0)
);
create index auth_attempts_window_idx on app.auth_attempts (bucket, window_start);
alter table app.auth_attempts enable row level security;
alter table app.auth_attempts force row level security;
create policy auth_attempts_auth on app.auth_attempts to alpaca_chat_auth
  using (true) with check (true);
grant select, insert, update, delete on app.auth_attempts to alpaca_chat_auth;

-- One attempt counted with one upsert: a key whose window has passed starts a new one.
-- Starting a window also forgets the bucket's passed windows, so each row is deleted
-- once and the table holds only live windows.
create function app.count_attempt(p_bucket text, p_key_hash bytea, p_seconds integer)
  returns table (counted integer, retry_after double precision)
  language plpgsql security definer set search_path = pg_catalog, app
  as $$
declare
  v_window constant interval := make_interval(secs => p_seconds);
begin
  insert into app.auth_attempts as a (bucket, key_hash, window_start, attempts)
    values (p_bucket, p_key_hash, now(), 1)
  on conflict (key_hash) do update
    set window_start = case when a.window_start <= now() - v_window
                            then now() else a.window_start end,
        attempts = case when a.window_start <= now() - v_window then 1 else a.attempts + 1 end
  returning a.attempts, extract(epoch from a.window_start + v_window - now())
    into counted, retry_after;
  if counted = 1 then
    delete from app.auth_attempts
     where bucket = p_bucket and window_start <= now() - v_window;
  end if;
  return next;
end
$$;

-- A sign-in is counted before the password is checked, so parallel guesses cannot all
-- pass; one that succeeds is taken back again: only failures stay counted.
create function app.uncount_attempt(p_key_hash bytea)
  returns void
  language sql security definer set search_path = pg_catalog, app
  as $$ update app.auth_attempts set attempts = attempts - 1
         where key_hash = p_key_hash and attempts > 0 $$;

alter function app.count_attempt(text, bytea, integer) owner to alpaca_chat_auth;
alter function app.uncount_attempt(bytea) owner to alpaca_chat_auth;
revoke all on function app.count_attempt(text, bytea, integer), app.uncount_attempt(bytea)
  from public;
grant execute on function app.count_attempt(text, bytea, integer), app.uncount_attempt(bytea)
  to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.uncount_attempt(bytea);
drop function app.count_attempt(text, bytea, integer);
drop table app.auth_attempts;
drop function app.session_of(bytea);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
