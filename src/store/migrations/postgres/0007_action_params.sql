-- SQLite's migration 10: an action attempt's parameters (JSON), NULL for
-- lock and unlock.
ALTER TABLE action_attempts ADD COLUMN params TEXT;
