/* Thermostats' properties in the store: the changes of climate_settings.h
 * written in one read-modify-write each (the action worker's climate
 * actions, the thermostats' routes that change at once), and the
 * background step that moves the temperature of the thermostats that heat
 * or cool toward their set point, through the store, so that every node's
 * cached answers see it. */
#ifndef LATCHKEY_JOBS_CLIMATE_H
#define LATCHKEY_JOBS_CLIMATE_H

#include <stdbool.h>

#include "jobs/climate_settings.h"
#include "store/store.h"

/* Whether the action type is a thermostat's (SET_HVAC_MODE, SET_FAN_MODE,
 * ACTIVATE_CLIMATE_PRESET). */
bool climate_action(const char *action_type);

/* The event a thermostat's action records when it is done, as Seam's:
 * thermostat.climate_preset_activated, or thermostat.manually_adjusted
 * (method "seam") with the setting asked for (set points in both units);
 * its own fields as a JSON object in *payload (in a). NULL when params are
 * not a JSON object. */
const char *climate_event(arena *a, const char *action_type, const char *params,
                          const char **payload);

/* In the caller's transaction: the thermostat's properties after the
 * change `what` (climate_settings_apply) with params (its JSON object).
 * Not found when the device is not there; a refusal as
 * climate_settings_apply gives it (*param, when param is not NULL: the
 * parameter at fault); nothing is written when the stored properties or
 * params are not JSON objects. A thermostat that now heats or cools starts
 * moving its temperature at `now`, unless it was moving already. Results
 * live in a. */
err climate_write(store *s, arena *a, const store_scope *scope, const char *device_id,
                  const char *what, const char *params, int64_t now, const char **param);

/* Milliseconds a thermostat takes to move a tenth of a degree at
 * degrees_per_hour (Celsius); 0 when it does not move at all. */
int64_t climate_tenth_ms(unsigned degrees_per_hour);

/* Moves the temperature of the thermostats whose time has come, a tenth of
 * a degree for each tenth_ms since each last moved, each in a transaction
 * of its own; *next: when the next one is due (0: none moves). Idempotent
 * across nodes: a thermostat that another node has just moved is not due. */
err climate_step(store *s, int64_t now, int64_t tenth_ms, int64_t *next);

#endif
