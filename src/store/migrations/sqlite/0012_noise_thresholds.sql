-- Noise thresholds of noise sensors (Minut, NoiseAware): the limits of
-- noise tolerated at a property between two times of day. A threshold
-- carries its device's connected account, by which a client session's
-- scope reaches it (as action attempts and events do), and goes with its
-- device. Its changes bump the workspace's generation like every table the
-- API shows.
--
-- Also the moving temperature of sandbox thermostats: while a thermostat
-- heats or cools, devices.climate_moved_at says when its temperature was
-- last moved toward the set point (NULL while it rests), so that the
-- background step finds the thermostats due through an index rather than
-- by reading every device.
CREATE TABLE noise_thresholds (
    seq                       INTEGER PRIMARY KEY AUTOINCREMENT,
    noise_threshold_id        TEXT NOT NULL UNIQUE,
    workspace_id              TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    device_id                 TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    connected_account_id      TEXT NOT NULL,
    name                      TEXT NOT NULL,
    starts_daily_at           TEXT NOT NULL,
    ends_daily_at             TEXT NOT NULL,
    noise_threshold_decibels  REAL NOT NULL,
    noise_threshold_nrs       REAL,
    created_at                INTEGER NOT NULL
);
CREATE INDEX noise_thresholds_device_seq ON noise_thresholds(device_id, seq);
CREATE INDEX noise_thresholds_account_workspace_seq
    ON noise_thresholds(connected_account_id, workspace_id, seq);

CREATE TRIGGER noise_thresholds_gen_insert AFTER INSERT ON noise_thresholds BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER noise_thresholds_gen_update AFTER UPDATE ON noise_thresholds BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER noise_thresholds_gen_delete AFTER DELETE ON noise_thresholds BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;

ALTER TABLE devices ADD COLUMN climate_moved_at INTEGER;
CREATE INDEX devices_climate_moved ON devices(climate_moved_at) WHERE climate_moved_at IS NOT NULL;
