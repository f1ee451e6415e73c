-- Unmanaged devices (devices/update with is_managed false): still their
-- account's and kept current by its provider, but out of devices/list,
-- devices/get, locks, thermostats, access codes and client sessions'
-- device_count; devices/unmanaged/* shows them. Every device is managed
-- until made unmanaged. The partial index lists a workspace's unmanaged
-- devices without walking its managed ones.
ALTER TABLE devices ADD COLUMN is_managed INTEGER NOT NULL DEFAULT 1;
CREATE INDEX devices_unmanaged_workspace_seq ON devices(workspace_id, seq) WHERE NOT is_managed;
