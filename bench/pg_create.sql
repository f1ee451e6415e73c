-- For pgbench (bench/bench.mjs runs it on the bench's PostgreSQL): the
-- statements PostgreSQL runs for one client_sessions/create from latchkey,
-- as log_statement=all shows them (the API key's lookup, the insert in its
-- transaction, the new session read back), with pgbench's own values. Its
-- rate is PostgreSQL's ceiling for that call on this machine when no HTTP
-- server, no JSON and no crypto share the cores with it.
\set n random(1, 2000000000)
SELECT k.api_key_id, k.workspace_id, k.name, k.token_hash, k.created_at FROM api_keys k WHERE TRUE AND k.token_hash = md5('key');
BEGIN;
INSERT INTO client_sessions (client_session_id, workspace_id, user_identifier_key, token_hash, token_sealed, user_identity_id, customer_key, created_at, expires_at) VALUES ('pgbench_' || :client_id || '_' || :n || '_' || random(), 'seed_workspace_1', 'pgbench_' || :client_id || '_' || :n || '_' || random(), md5(random()::text) || md5(random()::text), md5(random()::text) || md5(random()::text) || md5(random()::text), NULL, NULL, 1795739418454, 1795825818454);
COMMIT;
SELECT cs.seq, cs.client_session_id, cs.workspace_id, cs.user_identifier_key, cs.token_sealed, cs.user_identity_id, cs.customer_key, cs.created_at, cs.expires_at, cs.revoked_at FROM client_sessions cs WHERE TRUE AND cs.workspace_id = 'seed_workspace_1' AND cs.client_session_id = 'pgbench_' || :client_id;
SELECT held.client_session_id, held.connected_account_id, (SELECT COUNT(*) FROM devices d WHERE d.workspace_id = 'seed_workspace_1' AND d.connected_account_id = held.connected_account_id) FROM (SELECT client_session_id, connected_account_id FROM client_session_connected_accounts WHERE TRUE AND client_session_id IN ('pgbench_' || :client_id) UNION SELECT x.client_session_id, cw.connected_account_id FROM client_session_connect_webviews x JOIN connect_webviews cw ON cw.connect_webview_id = x.connect_webview_id WHERE cw.connected_account_id IS NOT NULL AND x.client_session_id IN ('pgbench_' || :client_id)) held ORDER BY 1, 2;
SELECT client_session_id, connect_webview_id FROM client_session_connect_webviews WHERE TRUE AND client_session_id IN ('pgbench_' || :client_id) ORDER BY 1, 2;
