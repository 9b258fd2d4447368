DROP TABLE mail_outbox;
DROP TRIGGER users_email_changed ON users;
DROP FUNCTION users_email_changed();
DROP TABLE email_verifications;
ALTER TABLE users DROP COLUMN email_verified_at;
