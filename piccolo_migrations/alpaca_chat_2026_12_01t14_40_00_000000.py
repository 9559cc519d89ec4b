"""Passkeys, their single-use challenges, and the lookups made before anyone is known.

Piccolo migration: raw SQL run as the database owner (KEY-01..03).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from api.db.migrations import sql_script

ID = "2026-12-01T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Passkeys, passkey challenges, the sign-in challenge and credential lookups"

FORWARDS = """
-- One row per registered passkey (KEY-01). The credential id is unique across users:
-- signing in finds the passkey, and so its owner, by the id the authenticator returns.
create table app.passkeys (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  credential_id bytea not null check (octet_length(credential_id) between 1 and 1023),
  public_key bytea not null check (octet_length(public_key) between 1 and 2048),
  sign_count bigint not null default 0 check (sign_count >= 0),
  transports jsonb not null default '[]' check (jsonb_typeof(transports) = 'array'),
  name text not null check (char_length(name) between 1 and 60),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  unique (id, owner_id)
);
create unique index passkeys_credential_id_key on app.passkeys (credential_id);
create index passkeys_owner_idx on app.passkeys (owner_id);

-- Challenges of a signed-in person: registering a passkey, and the assertions that
-- confirm a live order or loosen a live account (KEY-02). Each is used once (deleted
-- when it is spent) and expires. An approval's `subject` is the SHA-256 of what it
-- approves (api/auth/passkey_challenges.py), and its challenge is derived from that
-- digest and a random nonce, so the signed assertion itself names what it approved.
create table app.passkey_challenges (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  purpose text not null check (purpose in ('REGISTER', 'APPROVE')),
  challenge bytea not null check (octet_length(challenge) = 32),
  subject bytea check (subject is null or octet_length(subject) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create unique index passkey_challenges_challenge_key on app.passkey_challenges (challenge);
create index passkey_challenges_owner_idx on app.passkey_challenges (owner_id, expires_at);

-- Sign-in challenges belong to no one yet: only the definer functions below touch
-- them, and the runtime role has no grant on the table at all.
create table app.passkey_sign_in_challenges (
  challenge bytea primary key check (octet_length(challenge) = 32),
  expires_at timestamptz not null
);
create index passkey_sign_in_challenges_expiry_idx on app.passkey_sign_in_challenges (expires_at);

alter table app.passkeys enable row level security;
alter table app.passkeys force row level security;
create policy passkeys_owner on app.passkeys
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.passkey_challenges enable row level security;
alter table app.passkey_challenges force row level security;
create policy passkey_challenges_owner on app.passkey_challenges
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.passkey_sign_in_challenges enable row level security;
alter table app.passkey_sign_in_challenges force row level security;

-- The public key is no secret, but nothing needs to read it back but the checks.
grant select (id, owner_id, credential_id, public_key, sign_count, transports, name, created_at,
              last_used_at)
  on app.passkeys to alpaca_chat_app;
grant insert (owner_id, credential_id, public_key, sign_count, transports, name)
  on app.passkeys to alpaca_chat_app;
grant update (sign_count, last_used_at) on app.passkeys to alpaca_chat_app;
grant delete on app.passkeys to alpaca_chat_app;

grant select (id, owner_id, purpose, challenge, subject, created_at, expires_at)
  on app.passkey_challenges to alpaca_chat_app;
grant insert (owner_id, purpose, challenge, subject, expires_at)
  on app.passkey_challenges to alpaca_chat_app;
grant delete on app.passkey_challenges to alpaca_chat_app;

-- Before anyone is known, as the other sign-in functions: the auth role reads a
-- credential by its id and keeps the anonymous sign-in challenges.
grant select (id, owner_id, credential_id, public_key, sign_count) on app.passkeys
  to alpaca_chat_auth;
create policy passkeys_auth on app.passkeys for select to alpaca_chat_auth using (true);
grant select, insert, delete on app.passkey_sign_in_challenges to alpaca_chat_auth;
create policy passkey_sign_in_challenges_auth on app.passkey_sign_in_challenges
  to alpaca_chat_auth using (true) with check (true);

-- Sign-in: the credential's owner, public key and count, by the id the authenticator gave.
create function app.passkey_lookup(p_credential_id bytea)
  returns table (passkey_id uuid, user_id uuid, public_key bytea, sign_count bigint)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select id, owner_id, public_key, sign_count from app.passkeys
         where credential_id = p_credential_id $$;

-- A new sign-in challenge; expired ones are swept on the way.
create function app.passkey_sign_in_challenge(p_challenge bytea, p_lifetime interval)
  returns void
  language sql security definer set search_path = pg_catalog, app
  as $$ delete from app.passkey_sign_in_challenges where expires_at <= now();
        insert into app.passkey_sign_in_challenges (challenge, expires_at)
          values (p_challenge, now() + least(p_lifetime, interval '10 minutes')) $$;

-- Spends a sign-in challenge: true once if it was issued and has not expired.
create function app.take_passkey_sign_in_challenge(p_challenge bytea)
  returns boolean
  language sql security definer set search_path = pg_catalog, app
  as $$ with spent as (
          delete from app.passkey_sign_in_challenges where challenge = p_challenge
          returning expires_at)
        select coalesce((select expires_at > now() from spent), false) $$;

alter function app.passkey_lookup(bytea) owner to alpaca_chat_auth;
alter function app.passkey_sign_in_challenge(bytea, interval) owner to alpaca_chat_auth;
alter function app.take_passkey_sign_in_challenge(bytea) owner to alpaca_chat_auth;
revoke all on function app.passkey_lookup(bytea), app.passkey_sign_in_challenge(bytea, interval),
  app.take_passkey_sign_in_challenge(bytea) from public;
grant execute on function app.passkey_lookup(bytea),
  app.passkey_sign_in_challenge(bytea, interval), app.take_passkey_sign_in_challenge(bytea)
  to alpaca_chat_app;
"""

BACKWARDS = """
drop function app.take_passkey_sign_in_challenge(bytea);
drop function app.passkey_sign_in_challenge(bytea, interval);
drop function app.passkey_lookup(bytea);
drop table app.passkey_sign_in_challenges;
drop table app.passkey_challenges;
drop table app.passkeys;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="alpaca_chat", description=DESCRIPTION)
    manager.add_raw(sql_script(FORWARDS))
    manager.add_raw_backwards(sql_script(BACKWARDS))
    return manager
