drop function app.sign_up(text, text, bytea);
drop function app.session_user_id(bytea);
drop function app.login_lookup(text);
drop policy broker_accounts_ops on app.broker_accounts;
drop policy invites_ops on app.invites;
drop policy invites_auth on app.invites;
drop policy sessions_auth on app.sessions;
drop policy users_auth on app.users;
revoke all on all tables in schema app from alpaca_chat_auth, alpaca_chat_ops;
revoke usage on schema app from alpaca_chat_auth, alpaca_chat_ops;
do $$
begin
  revoke alpaca_chat_auth, alpaca_chat_ops from current_user;
  drop role alpaca_chat_auth;
  drop role alpaca_chat_ops;
exception when dependent_objects_still_exist or undefined_object then
  null;
end
$$;
