-- latchkey schema, version 1: workspaces, credentials, client sessions and
-- what they scope: connected accounts, connect webviews, devices, action
-- attempts and events; user identities.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE workspaces (
    workspace_id     TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    company_name     TEXT NOT NULL,
    is_sandbox       INTEGER NOT NULL DEFAULT 0,
    publishable_key  TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL
);

CREATE TABLE api_keys (
    api_key_id    TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE user_identities (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_identity_id   TEXT NOT NULL UNIQUE,
    workspace_id       TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    user_identity_key  TEXT,
    email_address      TEXT,
    phone_number       TEXT,
    full_name          TEXT,
    created_at         INTEGER NOT NULL,
    UNIQUE (workspace_id, user_identity_key)
);

CREATE TABLE connected_accounts (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    connected_account_id  TEXT NOT NULL UNIQUE,
    workspace_id          TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    provider              TEXT NOT NULL,
    user_email            TEXT,
    provider_login        TEXT,           -- the login at the provider, for reconnecting
    display_name          TEXT,
    custom_metadata       TEXT,
    created_at            INTEGER NOT NULL
);
CREATE INDEX connected_accounts_workspace ON connected_accounts(workspace_id, seq);
CREATE UNIQUE INDEX connected_accounts_login ON connected_accounts(workspace_id, provider, provider_login)
    WHERE provider_login IS NOT NULL;

CREATE TABLE connect_webviews (
    seq                          INTEGER PRIMARY KEY AUTOINCREMENT,
    connect_webview_id           TEXT NOT NULL UNIQUE,
    workspace_id                 TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    connected_account_id         TEXT REFERENCES connected_accounts(connected_account_id) ON DELETE SET NULL,
    status                       TEXT NOT NULL DEFAULT 'pending',
    auth_token_sealed            TEXT,
    accepted_providers           TEXT NOT NULL DEFAULT '',  -- provider names, comma-separated
    custom_redirect_url          TEXT,
    custom_redirect_failure_url  TEXT,
    custom_metadata              TEXT,
    device_selection_mode        TEXT NOT NULL DEFAULT 'none',
    selected_provider            TEXT,
    login_successful             INTEGER NOT NULL DEFAULT 0,
    failed_logins                INTEGER NOT NULL DEFAULT 0,
    error                        TEXT,
    authorized_at                INTEGER,
    created_at                   INTEGER NOT NULL
);
CREATE INDEX connect_webviews_workspace ON connect_webviews(workspace_id, seq);

CREATE TABLE devices (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id             TEXT NOT NULL UNIQUE,
    workspace_id          TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    connected_account_id  TEXT NOT NULL REFERENCES connected_accounts(connected_account_id) ON DELETE CASCADE,
    device_type           TEXT NOT NULL,
    manufacturer          TEXT,
    name                  TEXT NOT NULL,
    nickname              TEXT,
    model                 TEXT,
    online                INTEGER NOT NULL DEFAULT 1,
    locked                INTEGER,
    battery_level         REAL,
    can_remotely_lock     INTEGER NOT NULL DEFAULT 0,
    can_remotely_unlock   INTEGER NOT NULL DEFAULT 0,
    provider_device_key   TEXT,          -- the provider's id for it, for reconnecting
    extra_properties      TEXT,
    custom_metadata       TEXT,
    created_at            INTEGER NOT NULL
);
CREATE INDEX devices_workspace_seq ON devices(workspace_id, seq);
CREATE INDEX devices_account_seq ON devices(connected_account_id, seq);
CREATE UNIQUE INDEX devices_provider_key ON devices(connected_account_id, provider_device_key)
    WHERE provider_device_key IS NOT NULL;

CREATE TABLE client_sessions (
    client_session_id    TEXT PRIMARY KEY,
    workspace_id         TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    user_identifier_key  TEXT,
    token_hash           TEXT NOT NULL UNIQUE,
    token_sealed         TEXT NOT NULL,
    user_identity_id     TEXT REFERENCES user_identities(user_identity_id) ON DELETE SET NULL,
    customer_key         TEXT,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    revoked_at           INTEGER
);
CREATE UNIQUE INDEX client_sessions_user ON client_sessions(workspace_id, user_identifier_key)
    WHERE user_identifier_key IS NOT NULL;
CREATE INDEX client_sessions_workspace_created ON client_sessions(workspace_id, created_at);

CREATE TABLE client_session_connected_accounts (
    client_session_id     TEXT NOT NULL REFERENCES client_sessions(client_session_id) ON DELETE CASCADE,
    connected_account_id  TEXT NOT NULL REFERENCES connected_accounts(connected_account_id) ON DELETE CASCADE,
    PRIMARY KEY (client_session_id, connected_account_id)
) WITHOUT ROWID;
CREATE INDEX csca_account ON client_session_connected_accounts(connected_account_id);

CREATE TABLE client_session_connect_webviews (
    client_session_id   TEXT NOT NULL REFERENCES client_sessions(client_session_id) ON DELETE CASCADE,
    connect_webview_id  TEXT NOT NULL REFERENCES connect_webviews(connect_webview_id) ON DELETE CASCADE,
    PRIMARY KEY (client_session_id, connect_webview_id)
) WITHOUT ROWID;
CREATE INDEX cscw_webview ON client_session_connect_webviews(connect_webview_id);

CREATE TABLE action_attempts (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    action_attempt_id     TEXT NOT NULL UNIQUE,
    workspace_id          TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    device_id             TEXT NOT NULL,   -- kept after the device is deleted
    connected_account_id  TEXT NOT NULL,   -- for scoping, like events
    action_type           TEXT NOT NULL,   -- LOCK_DOOR, UNLOCK_DOOR
    status                TEXT NOT NULL,   -- pending, running, success, error
    error_type            TEXT,
    error_message         TEXT,
    created_at            INTEGER NOT NULL,
    due_at                INTEGER NOT NULL,
    completed_at          INTEGER
);
CREATE INDEX action_attempts_workspace ON action_attempts(workspace_id, seq);
CREATE INDEX action_attempts_due ON action_attempts(status, due_at);

CREATE TABLE events (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id              TEXT NOT NULL UNIQUE,
    workspace_id          TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    event_type            TEXT NOT NULL,
    device_id             TEXT,
    connected_account_id  TEXT,
    connect_webview_id    TEXT,
    client_session_id     TEXT,
    action_attempt_id     TEXT,
    created_at            INTEGER NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, created_at);
