-- Access codes: PIN codes on locks. latchkey's own (managed) codes and the
-- codes found on a lock (unmanaged), each programmed onto the lock and
-- removed from it by the access-code scheduler (jobs/access_codes.c): a
-- code with work to do has a due_at, and the node that claims it holds a
-- lease (owner, expiry) while it works, so that on several nodes each change
-- is made once and a restart loses none. Events name the code they are about.
CREATE TABLE access_codes (
    seq                               INTEGER PRIMARY KEY AUTOINCREMENT,
    access_code_id                    TEXT NOT NULL UNIQUE,
    workspace_id                      TEXT NOT NULL REFERENCES workspaces(workspace_id) ON DELETE CASCADE,
    device_id                         TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    connected_account_id              TEXT NOT NULL,   -- for scoping, like the device's
    name                              TEXT,
    code                              TEXT NOT NULL,
    common_code_key                   TEXT,
    starts_at                         INTEGER,         -- both NULL: an ongoing code
    ends_at                           INTEGER,
    is_managed                        INTEGER NOT NULL DEFAULT 1,
    is_external_modification_allowed  INTEGER NOT NULL DEFAULT 0,
    is_one_time_use                   INTEGER NOT NULL DEFAULT 0,
    is_offline_access_code            INTEGER NOT NULL DEFAULT 0,
    use_backup_pool                   INTEGER NOT NULL DEFAULT 0,
    is_backup                         INTEGER NOT NULL DEFAULT 0,  -- one of the device's spare codes
    pulled_backup_access_code_id      TEXT,
    status                            TEXT NOT NULL,   -- unset, setting, set, removing
    on_device                         INTEGER NOT NULL DEFAULT 0,  -- the lock holds it now
    deleting                          INTEGER NOT NULL DEFAULT 0,  -- to be removed, then deleted
    due_at                            INTEGER,         -- when the scheduler looks at it next
    delayed_since                     INTEGER,         -- the lock could not be reached since
    lease_owner                       TEXT,
    lease_expires_at                  INTEGER,
    created_at                        INTEGER NOT NULL
);
CREATE INDEX access_codes_workspace ON access_codes(workspace_id, seq);
CREATE INDEX access_codes_device ON access_codes(device_id, seq);
CREATE INDEX access_codes_due ON access_codes(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX access_codes_lease ON access_codes(lease_expires_at) WHERE lease_expires_at IS NOT NULL;
-- One code (PIN) once on a lock.
CREATE UNIQUE INDEX access_codes_device_code ON access_codes(device_id, code);

ALTER TABLE events ADD COLUMN access_code_id TEXT;
-- An event's own fields (an access code's code, a pulled backup's id), as a JSON object.
ALTER TABLE events ADD COLUMN payload TEXT;

CREATE TRIGGER access_codes_gen_insert AFTER INSERT ON access_codes BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER access_codes_gen_update AFTER UPDATE ON access_codes BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (NEW.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
CREATE TRIGGER access_codes_gen_delete AFTER DELETE ON access_codes BEGIN INSERT INTO workspace_generations (workspace_id, slot, gen) VALUES (OLD.workspace_id, 0, 1) ON CONFLICT (workspace_id, slot) DO UPDATE SET gen = gen + 1; END;
