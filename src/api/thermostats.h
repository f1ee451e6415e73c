/* What the thermostats' routes share (thermostats.c, climate_presets.c):
 * the modes they take, set points read in either unit and checked against
 * the thermostat, the thermostat in scope, and changes made to its
 * properties at once. */
#ifndef LATCHKEY_API_THERMOSTATS_H
#define LATCHKEY_API_THERMOSTATS_H

#include "api/handler.h"

/* NULL-terminated, as param_choice takes them. */
extern const char *const THERMOSTAT_HVAC_MODES[];
extern const char *const THERMOSTAT_FAN_MODES[];

/* A temperature given in Celsius or Fahrenheit (<base>_celsius or
 * <base>_fahrenheit, not both), as Celsius into asked[<base>_celsius]. */
void thermostat_read_temperature(api_call *c, json_t *asked, const char *base);
/* Checks the parameters, then finds the thermostat in scope (404 when it
 * is not one there). */
err thermostat_find(api_call *c, const char *device_id, store_device *d);
/* Refuses (as invalid input) set points of asked that the thermostat does
 * not take; then checks the parameters. */
err thermostat_check_set_points(api_call *c, const store_device *d, json_t *asked);
/* Makes the change `what` (climate_settings.h) with asked (taken) to the
 * thermostat's properties at once, answering {}; a refusal names the
 * parameter at fault. */
err thermostat_change(api_call *c, const store_device *d, const char *what, json_t *asked);

#endif
