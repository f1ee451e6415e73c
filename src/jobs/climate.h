/* What a thermostat action does to a thermostat's properties (its stored
 * extra_properties): SET_HVAC_MODE sets current_climate_setting's mode and
 * the set points asked for (Celsius and Fahrenheit both), SET_FAN_MODE the
 * fan mode, and a temperature threshold is kept as given. */
#ifndef LATCHKEY_JOBS_CLIMATE_H
#define LATCHKEY_JOBS_CLIMATE_H

#include <stdbool.h>

#include "store/store.h"

/* Not an action attempt's type: what thermostats/set_temperature_threshold
 * writes (params: the limits, as the thermostat's temperature_threshold). */
#define CLIMATE_THRESHOLD "temperature_threshold"

/* Whether the action type is a thermostat's. */
bool climate_action(const char *action_type);
/* In the caller's transaction: the thermostat's properties after `what`
 * (an action type, or CLIMATE_THRESHOLD) with params (its JSON object);
 * nothing is written when the stored properties or params are not JSON
 * objects; not found when the device is not there. */
err climate_write(store *s, const store_scope *scope, const char *device_id, const char *what,
                  const char *params);

#endif
