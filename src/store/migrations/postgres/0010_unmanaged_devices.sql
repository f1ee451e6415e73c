-- SQLite's migration 13: whether a device is managed (devices/update with
-- is_managed false makes it unmanaged), and a partial index of the
-- unmanaged ones.
ALTER TABLE devices ADD COLUMN is_managed BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX devices_unmanaged_workspace_seq ON devices(workspace_id, seq) WHERE NOT is_managed;
