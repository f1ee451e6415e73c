-- SQLite's migration 9: accepted device capabilities of connect webviews
-- and connected accounts (comma-separated; NULL: those of the providers).
ALTER TABLE connect_webviews ADD COLUMN accepted_capabilities TEXT;
ALTER TABLE connected_accounts ADD COLUMN accepted_capabilities TEXT;
