/* What a thermostat action does to a thermostat's properties (its stored
 * extra_properties): SET_HVAC_MODE sets current_climate_setting's mode and
 * the set points asked for (Celsius and Fahrenheit both), SET_FAN_MODE the
 * fan mode. */
#ifndef LATCHKEY_JOBS_CLIMATE_H
#define LATCHKEY_JOBS_CLIMATE_H

#include <stdbool.h>

#include "core/arena.h"

/* Whether the action type is a thermostat's. */
bool climate_action(const char *action_type);
/* The properties after the action (params: its JSON object); NULL when
 * the stored properties or params are not JSON objects. */
const char *climate_apply(arena *a, const char *extra_properties, const char *action_type,
                          const char *params);

#endif
