-- A generation per workspace: a number that grows with every change to
-- anything of the workspace, kept by triggers so that no write can forget
-- it. A node caches answers with the generation they were read at and
-- serves them only while the workspace's generation is unchanged: equal
-- numbers mean that nothing of the workspace changed in between, whichever
-- node wrote. The generation is the sum of a workspace's slots; a writer
-- bumps the slot of its own backend, so concurrent writers do not queue on
-- one row until they commit.
CREATE TABLE workspace_generations (
    workspace_id TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    gen          BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, slot)
);

-- Once per statement, for the workspaces of the rows it changed (the
-- transition table "changed"; a session's grants name their session).
CREATE FUNCTION workspace_generations_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'session' THEN
        INSERT INTO workspace_generations AS g (workspace_id, slot, gen)
        SELECT DISTINCT cs.workspace_id, pg_backend_pid() % 64, 1
        FROM changed JOIN client_sessions cs USING (client_session_id)
        ORDER BY 1
        ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = g.gen + 1;
    ELSE
        INSERT INTO workspace_generations AS g (workspace_id, slot, gen)
        SELECT DISTINCT workspace_id, pg_backend_pid() % 64, 1 FROM changed
        ORDER BY 1
        ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = g.gen + 1;
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t TEXT;
    event TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['workspaces', 'api_keys', 'user_identities', 'connected_accounts',
                             'connect_webviews', 'devices', 'client_sessions', 'action_attempts',
                             'events', 'client_session_connected_accounts',
                             'client_session_connect_webviews'] LOOP
        FOREACH event IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s TABLE AS changed'
                           ' FOR EACH STATEMENT EXECUTE FUNCTION workspace_generations_bump(%L)',
                           t || '_gen_' || lower(event), event, t,
                           CASE event WHEN 'DELETE' THEN 'OLD' ELSE 'NEW' END,
                           CASE WHEN t IN ('client_session_connected_accounts',
                                          'client_session_connect_webviews')
                                THEN 'session' ELSE 'workspace' END);
        END LOOP;
    END LOOP;
END $$;
