drop schema app cascade;
do $$
begin
  -- The role is cluster-wide; another database of the cluster may still use it.
  revoke alpaca_chat_app from current_user;
  drop role alpaca_chat_app;
exception when dependent_objects_still_exist or undefined_object then
  null;
end
$$;
