-- Wakes the relay after every committed insert (NOTIFY is delivered at commit, once per payload).
CREATE FUNCTION landing_users_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('landing_users', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER landing_users_notify
  AFTER INSERT ON landing_users
  FOR EACH STATEMENT EXECUTE FUNCTION landing_users_notify();
