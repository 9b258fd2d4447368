-- The instant of the user's latest "end every session" (logout-all, an administrator's revoke-all,
-- disable, password change). A login reads it when it checks the password and opens its session
-- only if it is unchanged under the row lock: a login in flight across such a change opens none.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT now();
