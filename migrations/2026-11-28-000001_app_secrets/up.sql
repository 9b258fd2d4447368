-- Secrets every instance must share, created by whichever instance starts first: the key that
-- signs the dashboard login form's CSRF tokens (`login_csrf`), so a form served by one instance
-- passes on another behind a load balancer.
CREATE TABLE app_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL CHECK (octet_length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT statement_timestamp()
);
