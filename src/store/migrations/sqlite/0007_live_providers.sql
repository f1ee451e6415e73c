-- Live providers (Zigbee2MQTT, Home Assistant): an account's settings
-- (addresses, logins, tokens) sealed with the server secret; its error
-- while the provider cannot be reached or refuses the login; which node
-- holds its connection (provider_links, a lease); connections asked for in
-- a connect webview and not yet made (live_connects); how a lock was
-- operated at the door (events.method). provider_links and live_connects
-- have no generation triggers: nothing the API shows lives in them, and a
-- lease renewed every second must not empty every cache of the workspace.
ALTER TABLE connected_accounts ADD COLUMN settings_sealed TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_code TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_message TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_at INTEGER;
ALTER TABLE devices ADD COLUMN offline_at INTEGER;
ALTER TABLE events ADD COLUMN method TEXT;

CREATE TABLE provider_links (
    connected_account_id  TEXT PRIMARY KEY
                          REFERENCES connected_accounts(connected_account_id) ON DELETE CASCADE,
    owner                 TEXT,
    expires_at            INTEGER NOT NULL
);

CREATE TABLE live_connects (
    connect_webview_id  TEXT PRIMARY KEY
                        REFERENCES connect_webviews(connect_webview_id) ON DELETE CASCADE,
    provider            TEXT NOT NULL,
    login               TEXT NOT NULL,
    settings_sealed     TEXT,            -- NULL once the try is over
    owner               TEXT,
    expires_at          INTEGER NOT NULL,
    error               TEXT,            -- why the last try failed, for the form
    created_at          INTEGER NOT NULL
);
CREATE INDEX live_connects_due ON live_connects(expires_at) WHERE settings_sealed IS NOT NULL;
