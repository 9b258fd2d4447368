-- Password-reset links: one live link per user at most (issuing one deletes the older ones), stored
-- only as the SHA-256 of the token; using one deletes it.
CREATE TABLE password_resets (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- The administrator who made the link; NULL when the user asked for it (forgot-password).
    created_by uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);

-- A deleted user's id and when it was deleted (database time), kept while one of its access
-- tokens could still be unexpired: every instance's revocation sync reads it like a watermark,
-- since the user row (and its sessions) are gone.
CREATE TABLE user_tombstones (
    id         uuid PRIMARY KEY,
    deleted_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX user_tombstones_deleted_at_idx ON user_tombstones (deleted_at);

-- The audit log outlives the accounts it is about: deleting a user keeps the ids its events name
-- (no foreign key to clear them), and each event's detail keeps the username.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_subject_id_fkey;
