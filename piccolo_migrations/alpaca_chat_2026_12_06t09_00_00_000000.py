"""A token's session also tells when it expires, so a process may remember it until then.

Piccolo migration: raw SQL run as the database owner (AUTH-03). Each server process
keeps the sessions it has authenticated for a few seconds (api/auth/session_cache.py),
never past their expiry; revocation reaches it on the event bus.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-06T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The session of a token hash, with its expiry"

FORWARDS = """
-- Whether the session still authenticates stays app.session_user_id's to say.
drop function app.session_of(bytea);
create function app.session_of(p_token_hash bytea)
  returns table (session_id uuid, user_id uuid, expires_at timestamptz)
  language sql security definer set search_path = pg_catalog, app
  as $$ select s.id, s.user_id, s.expires_at from app.sessions s
         where s.token_hash = p_token_hash and s.user_id = app.session_user_id(p_token_hash) $$;
alter function app.session_of(bytea) owner to alpaca_chat_auth;
revoke all on function app.session_of(bytea) from public;
grant execute on function app.session_of(bytea) to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.session_of(bytea);
create function app.session_of(p_token_hash bytea)
  returns table (session_id uuid, user_id uuid)
  language sql security definer set search_path = pg_catalog, app
  as $$ select s.id, s.user_id from app.sessions s
         where s.token_hash = p_token_hash and s.user_id = app.session_user_id(p_token_hash) $$;
alter function app.session_of(bytea) owner to alpaca_chat_auth;
revoke all on function app.session_of(bytea) from public;
grant execute on function app.session_of(bytea) to alpaca_chat_app;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
