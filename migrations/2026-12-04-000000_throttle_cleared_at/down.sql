ALTER TABLE users DROP COLUMN throttle_cleared_at;
