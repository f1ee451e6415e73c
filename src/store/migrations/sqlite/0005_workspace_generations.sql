-- A generation per workspace: a number that grows with every change to
-- anything of the workspace, kept by triggers so that no write can forget
-- it. A node caches answers with the generation they were read at and
-- serves them only while the workspace's generation is unchanged: equal
-- numbers mean that nothing of the workspace changed in between, whichever
-- process or node wrote. (PostgreSQL spreads each workspace over several
-- slots so that concurrent writers do not queue on one row; SQLite has one
-- writer and one slot.)
CREATE TABLE workspace_generations (
    workspace_id TEXT NOT NULL,
    slot         INTEGER NOT NULL,
    gen          INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, slot)
);

CREATE TRIGGER workspaces_gen_insert AFTER INSERT ON workspaces BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER workspaces_gen_update AFTER UPDATE ON workspaces BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER workspaces_gen_delete AFTER DELETE ON workspaces BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER api_keys_gen_insert AFTER INSERT ON api_keys BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER api_keys_gen_update AFTER UPDATE ON api_keys BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER api_keys_gen_delete AFTER DELETE ON api_keys BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER user_identities_gen_insert AFTER INSERT ON user_identities BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER user_identities_gen_update AFTER UPDATE ON user_identities BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER user_identities_gen_delete AFTER DELETE ON user_identities BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connected_accounts_gen_insert AFTER INSERT ON connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connected_accounts_gen_update AFTER UPDATE ON connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connected_accounts_gen_delete AFTER DELETE ON connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connect_webviews_gen_insert AFTER INSERT ON connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connect_webviews_gen_update AFTER UPDATE ON connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER connect_webviews_gen_delete AFTER DELETE ON connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER devices_gen_insert AFTER INSERT ON devices BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER devices_gen_update AFTER UPDATE ON devices BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER devices_gen_delete AFTER DELETE ON devices BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_sessions_gen_insert AFTER INSERT ON client_sessions BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_sessions_gen_update AFTER UPDATE ON client_sessions BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_sessions_gen_delete AFTER DELETE ON client_sessions BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER action_attempts_gen_insert AFTER INSERT ON action_attempts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER action_attempts_gen_update AFTER UPDATE ON action_attempts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER action_attempts_gen_delete AFTER DELETE ON action_attempts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER events_gen_insert AFTER INSERT ON events BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER events_gen_update AFTER UPDATE ON events BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER events_gen_delete AFTER DELETE ON events BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connected_accounts_gen_insert AFTER INSERT ON client_session_connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = NEW.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connected_accounts_gen_update AFTER UPDATE ON client_session_connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = NEW.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connected_accounts_gen_delete AFTER DELETE ON client_session_connected_accounts BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = OLD.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connect_webviews_gen_insert AFTER INSERT ON client_session_connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = NEW.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connect_webviews_gen_update AFTER UPDATE ON client_session_connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = NEW.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER client_session_connect_webviews_gen_delete AFTER DELETE ON client_session_connect_webviews BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) SELECT workspace_id, 0, 1 FROM client_sessions WHERE client_session_id = OLD.client_session_id ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
