-- Email verification and the mail outbox.

-- When the current address was proven to reach its owner; NULL: not (or no address).
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- Verification links: 256 random bits, stored only as their SHA-256, bound to the address they
-- were sent to, single-use (deleted when used), expiring.
CREATE TABLE email_verifications (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX email_verifications_user_id_idx ON email_verifications (user_id);

-- The one home of "changing the address clears its verification": whatever writes users.email
-- (the admin PATCH, the dashboard, a script), a different address is unverified and the links
-- sent to the old one are void.
CREATE FUNCTION users_email_changed() RETURNS trigger AS $$
BEGIN
    NEW.email_verified_at := NULL;
    DELETE FROM email_verifications WHERE user_id = NEW.id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_email_changed
    BEFORE UPDATE OF email ON users
    FOR EACH ROW
    WHEN (OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION users_email_changed();

-- Mail to send, worked off the request path by a background worker on every instance. A row is an
-- intent (which mail, for whom), never a secret: the worker mints the link's token when it sends,
-- so no token is ever stored here in clear.
CREATE TABLE mail_outbox (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('password_reset', 'email_verification')),
    -- email_verification: the account; password_reset: found when sending, from what was typed.
    user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    -- email_verification: the address to verify; password_reset: the address typed, if any.
    email           text,
    -- password_reset: the username typed, if any.
    username        text,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mail_outbox_finished_at_idx ON mail_outbox (finished_at) WHERE state <> 'pending';
