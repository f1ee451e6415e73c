-- SQLite's migration 7: live providers' sealed settings and errors, which
-- node holds an account's connection (provider_links), connections asked
-- for and not yet made (live_connects), and how a lock was operated at the
-- door (events.method). The two new tables have no generation triggers:
-- nothing the API shows lives in them.
ALTER TABLE connected_accounts ADD COLUMN settings_sealed TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_code TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_message TEXT;
ALTER TABLE connected_accounts ADD COLUMN error_at BIGINT;
ALTER TABLE devices ADD COLUMN offline_at BIGINT;
ALTER TABLE events ADD COLUMN method TEXT;

CREATE TABLE provider_links (
    connected_account_id  TEXT PRIMARY KEY
                          REFERENCES connected_accounts(connected_account_id) ON DELETE CASCADE,
    owner                 TEXT,
    expires_at            BIGINT NOT NULL
);

CREATE TABLE live_connects (
    connect_webview_id  TEXT PRIMARY KEY
                        REFERENCES connect_webviews(connect_webview_id) ON DELETE CASCADE,
    provider            TEXT NOT NULL,
    login               TEXT NOT NULL,
    settings_sealed     TEXT,
    owner               TEXT,
    expires_at          BIGINT NOT NULL,
    error               TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX live_connects_due ON live_connects(expires_at) WHERE settings_sealed IS NOT NULL;
