-- The indexes of SQLite's migration 4. What a client session sees
-- (scope.c) is the rows of the connected accounts it holds, in the caller's
-- workspace: devices, action attempts and events are found by (account,
-- workspace) on these indexes, so that such a read costs what the session
-- holds, not what the workspace holds, and a session's device_count reads
-- the index alone. The devices' one replaces the index on
-- (connected_account_id, seq), whose lookups by account (foreign keys,
-- ON DELETE CASCADE) it serves as well.
CREATE INDEX devices_account_workspace_seq ON devices(connected_account_id, workspace_id, seq);
DROP INDEX devices_account_seq;
CREATE INDEX action_attempts_account_workspace_seq
    ON action_attempts(connected_account_id, workspace_id, seq);
CREATE INDEX events_account_workspace_seq ON events(connected_account_id, workspace_id, seq);
