-- Client sessions get the insertion sequence the other lists page by, so
-- client_sessions/list pages with limit and page_cursor like them.
ALTER TABLE client_sessions ADD COLUMN seq INTEGER;
UPDATE client_sessions SET seq = rowid;
CREATE UNIQUE INDEX client_sessions_seq ON client_sessions(seq);
CREATE INDEX client_sessions_workspace_seq ON client_sessions(workspace_id, seq);
