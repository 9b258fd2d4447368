-- Housekeeping deletes expired sessions and refresh tokens in small batches: each batch finds
-- its rows through these instead of scanning the whole table.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
