UPDATE audit_events SET actor_id = NULL WHERE actor_id NOT IN (SELECT id FROM users);
UPDATE audit_events SET subject_id = NULL WHERE subject_id NOT IN (SELECT id FROM users);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_id_fkey
    FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_subject_id_fkey
    FOREIGN KEY (subject_id) REFERENCES users (id) ON DELETE SET NULL;
DROP TABLE user_tombstones;
DROP TABLE password_resets;
