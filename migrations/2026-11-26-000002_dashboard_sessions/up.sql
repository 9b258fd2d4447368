-- Dashboard sessions are cookie sessions: the cookie carries a random secret, stored only as its
-- SHA-256; each session has its own CSRF token for the forms it renders.
ALTER TABLE sessions ADD COLUMN cookie_hash bytea;
ALTER TABLE sessions ADD COLUMN csrf_token text;
CREATE UNIQUE INDEX sessions_cookie_hash_key ON sessions (cookie_hash) WHERE cookie_hash IS NOT NULL;
