-- When an administrator last cleared the account's failed-login throttling, by the database's
-- clock. Throttling state lives in each instance's memory; every instance ignores failures it
-- recorded for this account before this instant, so one clear reaches them all.
ALTER TABLE users ADD COLUMN throttle_cleared_at timestamptz;
