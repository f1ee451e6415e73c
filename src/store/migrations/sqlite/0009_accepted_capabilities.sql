-- The device capabilities a connect webview (and the account it connects)
-- accepts: lock, thermostat, ... comma-separated; NULL: those of its
-- providers.
ALTER TABLE connect_webviews ADD COLUMN accepted_capabilities TEXT;
ALTER TABLE connected_accounts ADD COLUMN accepted_capabilities TEXT;
