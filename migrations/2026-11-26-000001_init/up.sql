-- The whole data model of DESIGN.md. Times are timestamptz (UTC on the wire), ids uuid v7 from the app.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    username           text NOT NULL,
    username_lower     text NOT NULL,
    email              text,
    password_hash      text NOT NULL,
    disabled_at        timestamptz,
    -- Access tokens issued at or before this instant are refused (role change, disable); epoch = none.
    tokens_valid_after timestamptz NOT NULL DEFAULT 'epoch',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_login_at      timestamptz,
    CONSTRAINT users_username_lower_key UNIQUE (username_lower),
    CONSTRAINT users_username_lower_check CHECK (username_lower = lower(username))
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX users_created_at_idx ON users (created_at DESC, id DESC);
CREATE INDEX users_username_trgm_idx ON users USING gin (username_lower gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);

CREATE TABLE roles (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_-]{1,32}$'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO roles (name, description) VALUES
    ('admin', 'Administers authd: users, roles, sessions, audit log'),
    ('user', 'Every registered user');

CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    integer NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_id_idx ON user_roles (role_id);

CREATE TABLE sessions (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('api', 'dashboard')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text,
    user_agent     text,
    ip             text
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_active_idx ON sessions (created_at DESC) WHERE revoked_at IS NULL;
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token; the token itself is never stored.
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL,
    public_key   bytea NOT NULL,
    private_key  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    retired_at   timestamptz
);
CREATE INDEX signing_keys_alg_idx ON signing_keys (alg, activated_at DESC);

CREATE TABLE audit_events (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    event      text NOT NULL,
    actor_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    subject_id uuid REFERENCES users (id) ON DELETE SET NULL,
    ip         text,
    user_agent text,
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC);
CREATE INDEX audit_events_event_at_idx ON audit_events (event, at DESC);
CREATE INDEX audit_events_subject_at_idx ON audit_events (subject_id, at DESC);
