DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE users;
DROP EXTENSION IF EXISTS pg_trgm;
