-- Unique constraints the store recognises by name, as PostgreSQL's schema
-- names them; client sessions numbered by the database itself; and leases
-- on action attempts, so that the cluster completes each exactly once.

CREATE UNIQUE INDEX user_identities_key ON user_identities(workspace_id, user_identity_key);
CREATE UNIQUE INDEX client_sessions_token_hash ON client_sessions(token_hash);

-- A session's seq is the next number after the largest, given under the
-- writer's lock (SQLite has one writer).
CREATE TRIGGER client_sessions_seq AFTER INSERT ON client_sessions
WHEN NEW.seq IS NULL
BEGIN
    UPDATE client_sessions SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM client_sessions)
    WHERE rowid = NEW.rowid;
END;

-- The node working on a running attempt, and until when; another node takes
-- it over once the lease has run out.
ALTER TABLE action_attempts ADD COLUMN lease_owner TEXT;
ALTER TABLE action_attempts ADD COLUMN lease_expires_at INTEGER;
CREATE INDEX action_attempts_lease ON action_attempts(status, lease_expires_at);
