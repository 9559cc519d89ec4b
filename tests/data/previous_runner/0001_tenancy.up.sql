-- Tenant tables, the runtime role, row-level security.
create schema app;

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'alpaca_chat_app') then
    create role alpaca_chat_app login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
  end if;
end
$$;
-- The owner must be able to hand connections to the runtime role (SET ROLE).
grant alpaca_chat_app to current_user;

-- The identity of a unit of work: a transaction-local setting. Once set in a
-- session it reads as '' (not NULL) after the transaction ends, hence nullif.
create function app.current_user_id() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

create table app.users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  password_hash text not null,
  active_account_id uuid,
  created_at timestamptz not null default now(),
  constraint users_email_normalised check (email = lower(btrim(email)))
);
create unique index users_email_key on app.users (email);

create table app.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references app.users (id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now(),
  revoked_at timestamptz,
  user_agent text
);
create index sessions_user_id_idx on app.sessions (user_id);

create table app.invites (
  id uuid primary key default gen_random_uuid(),
  created_by uuid references app.users (id) on delete cascade,  -- null: made by an operator
  code_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_by uuid references app.users (id) on delete set null,
  used_at timestamptz
);
create index invites_created_by_idx on app.invites (created_by);

create table app.broker_accounts (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  nickname text not null check (char_length(nickname) between 1 and 40),
  environment text not null check (environment in ('PAPER', 'LIVE')),
  key_id_encrypted bytea not null,
  secret_encrypted bytea not null,
  key_hint text not null,
  broker_account_number text not null,
  chat_auto_execute boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_verified_at timestamptz,
  constraint broker_accounts_live_confirms check (environment = 'PAPER' or not chat_auto_execute),
  -- lets child tables reference (id, owner_id): a row can only point at its owner's account
  unique (id, owner_id)
);
create unique index broker_accounts_nickname_key on app.broker_accounts (owner_id, lower(nickname));
create unique index broker_accounts_number_key
  on app.broker_accounts (owner_id, environment, broker_account_number);

alter table app.users
  add constraint users_active_account_fk foreign key (active_account_id, id)
  references app.broker_accounts (id, owner_id) on delete set null (active_account_id)
  deferrable initially deferred;

create table app.chat_messages (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  account_id uuid not null,
  role text not null check (role in ('USER', 'ASSISTANT')),
  content text not null,
  tool_calls jsonb not null default '[]',
  created_at timestamptz not null default clock_timestamp(),
  foreign key (account_id, owner_id) references app.broker_accounts (id, owner_id) on delete cascade
);
create index chat_messages_account_idx on app.chat_messages (account_id, created_at);

create table app.order_proposals (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  account_id uuid not null,
  message_id uuid references app.chat_messages (id) on delete set null,
  request jsonb not null,
  summary text not null,
  estimated_cost numeric not null,
  status text not null default 'PENDING'
    check (status in ('PENDING', 'CONFIRMED', 'DISMISSED', 'EXPIRED')),
  broker_order_id text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  foreign key (account_id, owner_id) references app.broker_accounts (id, owner_id) on delete cascade
);
create index order_proposals_account_idx on app.order_proposals (account_id, created_at);

-- Outlives the account it names: the audit trail of what was sent to a broker.
create table app.order_audit (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references app.users (id) on delete cascade,
  account_id uuid,
  client_order_id text not null unique,
  request jsonb not null,
  outcome text not null default 'ATTEMPTED'
    check (outcome in ('ATTEMPTED', 'ACCEPTED', 'REJECTED', 'UNKNOWN', 'RECOVERED', 'NOT_PLACED')),
  broker_order_id text,
  detail text,
  attempts integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index order_audit_account_idx on app.order_audit (account_id, created_at);

-- Row-level security on every table, enforced even for the owner.
alter table app.users enable row level security;
alter table app.users force row level security;
create policy users_self on app.users
  using (id = app.current_user_id()) with check (id = app.current_user_id());

alter table app.sessions enable row level security;
alter table app.sessions force row level security;
create policy sessions_owner on app.sessions
  using (user_id = app.current_user_id()) with check (user_id = app.current_user_id());

alter table app.invites enable row level security;
alter table app.invites force row level security;
create policy invites_owner on app.invites
  using (created_by = app.current_user_id()) with check (created_by = app.current_user_id());

alter table app.broker_accounts enable row level security;
alter table app.broker_accounts force row level security;
create policy broker_accounts_owner on app.broker_accounts
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.chat_messages enable row level security;
alter table app.chat_messages force row level security;
create policy chat_messages_owner on app.chat_messages
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.order_proposals enable row level security;
alter table app.order_proposals force row level security;
create policy order_proposals_owner on app.order_proposals
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

alter table app.order_audit enable row level security;
alter table app.order_audit force row level security;
create policy order_audit_owner on app.order_audit
  using (owner_id = app.current_user_id()) with check (owner_id = app.current_user_id());

-- The runtime role gets exactly the columns it needs.
revoke all on schema app from public;
grant usage on schema app to alpaca_chat_app;
grant execute on function app.current_user_id() to alpaca_chat_app;

grant select (id, email, active_account_id, created_at) on app.users to alpaca_chat_app;
grant update (active_account_id) on app.users to alpaca_chat_app;

grant select (id, user_id, created_at, expires_at, last_seen_at, revoked_at, user_agent)
  on app.sessions to alpaca_chat_app;
grant insert (user_id, token_hash, expires_at, user_agent) on app.sessions to alpaca_chat_app;
grant update (revoked_at, last_seen_at) on app.sessions to alpaca_chat_app;

grant select (id, created_by, created_at, expires_at, used_by, used_at) on app.invites to alpaca_chat_app;
grant insert (created_by, code_hash, expires_at) on app.invites to alpaca_chat_app;

grant select, delete on app.broker_accounts to alpaca_chat_app;
grant insert (id, owner_id, nickname, environment, key_id_encrypted, secret_encrypted, key_hint,
              broker_account_number, chat_auto_execute, last_verified_at)
  on app.broker_accounts to alpaca_chat_app;
grant update (nickname, key_id_encrypted, secret_encrypted, key_hint, chat_auto_execute,
              updated_at, last_verified_at)
  on app.broker_accounts to alpaca_chat_app;

grant select, delete on app.chat_messages to alpaca_chat_app;
grant insert (owner_id, account_id, role, content, tool_calls) on app.chat_messages to alpaca_chat_app;

grant select on app.order_proposals to alpaca_chat_app;
grant insert (id, owner_id, account_id, message_id, request, summary, estimated_cost, expires_at)
  on app.order_proposals to alpaca_chat_app;
grant update (status, broker_order_id) on app.order_proposals to alpaca_chat_app;

grant select on app.order_audit to alpaca_chat_app;
grant insert (owner_id, account_id, client_order_id, request, outcome, broker_order_id, detail)
  on app.order_audit to alpaca_chat_app;
grant update (outcome, broker_order_id, detail, attempts, updated_at, account_id)
  on app.order_audit to alpaca_chat_app;
