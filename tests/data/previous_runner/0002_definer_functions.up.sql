-- What must happen before a user is known (sign-up, sign-in, session lookup)
-- and what an operator does across tenants (invites, key rotation) runs as
-- two narrow NOLOGIN roles. Each table policy names the role it serves, so
-- neither needs BYPASSRLS and the runtime role can become neither.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_auth') then
    create role alpaca_chat_auth nologin nosuperuser nobypassrls noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_ops') then
    create role alpaca_chat_ops nologin nosuperuser nobypassrls noinherit;
  end if;
end
$$;
grant alpaca_chat_auth to current_user;
grant alpaca_chat_ops to current_user;
grant usage on schema app to alpaca_chat_auth, alpaca_chat_ops;

grant select (id, email, password_hash) on app.users to alpaca_chat_auth;
grant insert (email, password_hash) on app.users to alpaca_chat_auth;
grant select (id, user_id, token_hash, expires_at, revoked_at, last_seen_at) on app.sessions
  to alpaca_chat_auth;
grant update (last_seen_at) on app.sessions to alpaca_chat_auth;
grant select (id, code_hash, expires_at, used_at) on app.invites to alpaca_chat_auth;
grant update (used_by, used_at) on app.invites to alpaca_chat_auth;
create policy users_auth on app.users to alpaca_chat_auth using (true) with check (true);
create policy sessions_auth on app.sessions to alpaca_chat_auth using (true);
create policy invites_auth on app.invites to alpaca_chat_auth using (true);

grant insert (code_hash, expires_at) on app.invites to alpaca_chat_ops;
grant select (id, owner_id, key_id_encrypted, secret_encrypted) on app.broker_accounts
  to alpaca_chat_ops;
grant update (key_id_encrypted, secret_encrypted) on app.broker_accounts to alpaca_chat_ops;
create policy invites_ops on app.invites for insert to alpaca_chat_ops with check (created_by is null);
create policy broker_accounts_ops on app.broker_accounts to alpaca_chat_ops using (true);

-- Sign-in: the password hash of an email, to be checked by the server.
create function app.login_lookup(p_email text)
  returns table (user_id uuid, password_hash text)
  language sql stable security definer set search_path = pg_catalog, app
  as $$ select id, password_hash from app.users where email = lower(btrim(p_email)) $$;

-- Session lookup by token hash; refreshes last_seen at most once a minute.
create function app.session_user_id(p_token_hash bytea)
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

-- Sign-up: the first user needs no invite; every later one spends an unused,
-- unexpired invite in the same transaction that creates the user.
create function app.sign_up(p_email text, p_password_hash text, p_invite_hash bytea)
  returns uuid
  language plpgsql security definer set search_path = pg_catalog, app
  as $$
declare
  v_user_id uuid;
  v_invite_id uuid;
begin
  -- serialises sign-ups so that two people cannot both be "the first user"
  perform pg_advisory_xact_lock(hashtext('app.sign_up'));
  if exists (select 1 from app.users) then
    select id into v_invite_id from app.invites
     where code_hash = p_invite_hash and used_at is null and expires_at > now()
     for update;
    if v_invite_id is null then
      raise exception 'invite code is invalid, used or expired' using errcode = 'P0001',
        hint = 'invite';
    end if;
  end if;
  insert into app.users (email, password_hash) values (lower(btrim(p_email)), p_password_hash)
    returning id into v_user_id;
  if v_invite_id is not null then
    update app.invites set used_by = v_user_id, used_at = now() where id = v_invite_id;
  end if;
  return v_user_id;
end
$$;

alter function app.login_lookup(text) owner to alpaca_chat_auth;
alter function app.session_user_id(bytea) owner to alpaca_chat_auth;
alter function app.sign_up(text, text, bytea) owner to alpaca_chat_auth;
revoke all on function app.login_lookup(text), app.session_user_id(bytea),
  app.sign_up(text, text, bytea) from public;
grant execute on function app.login_lookup(text), app.session_user_id(bytea),
  app.sign_up(text, text, bytea) to alpaca_chat_app;
