-- What an action attempt asks for beyond its type (a thermostat's mode and
-- set points, a fan mode), as a JSON object; NULL for lock and unlock.
ALTER TABLE action_attempts ADD COLUMN params TEXT;
