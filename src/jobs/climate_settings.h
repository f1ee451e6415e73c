/* What each change does to a thermostat's properties (a JSON object, its
 * stored extra_properties), with no store in sight: the HVAC and fan modes
 * and set points of current_climate_setting, the temperature threshold,
 * the climate presets (available_climate_presets, the fallback preset,
 * activating one), and what follows from the setting and the temperature:
 * whether the thermostat heats, cools or runs its fan, and the temperature
 * moving toward the set point. Set points are kept in Celsius and
 * Fahrenheit both; the changes name them in Celsius. */
#ifndef LATCHKEY_JOBS_CLIMATE_SETTINGS_H
#define LATCHKEY_JOBS_CLIMATE_SETTINGS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/err.h"

/* The changes that are not action types (SET_HVAC_MODE, SET_FAN_MODE and
 * ACTIVATE_CLIMATE_PRESET are), each named as its route: */
#define CLIMATE_THRESHOLD "temperature_threshold"            /* the limits, as given */
#define CLIMATE_PRESET_CREATE "create_climate_preset"        /* a preset's fields */
#define CLIMATE_PRESET_UPDATE "update_climate_preset"        /* its key, fields to change */
#define CLIMATE_PRESET_DELETE "delete_climate_preset"        /* {climate_preset_key} */
#define CLIMATE_PRESET_FALLBACK "set_fallback_climate_preset" /* {climate_preset_key} */

/* Applies the change `what` asking for `asked` to props. ERR_NONE, or why
 * it is refused (nothing changed then): invalid_input naming the parameter
 * at fault in *param, climate_preset_not_found, climate_preset_key_already_exists,
 * climate_preset_cannot_be_deleted or too_many_climate_presets; messages
 * in a. */
err climate_settings_apply(arena *a, json_t *props, const char *what, json_t *asked,
                           const char **param);

/* What is wrong with the set points in asked (heating_set_point_celsius,
 * cooling_set_point_celsius) for a thermostat with these properties (its
 * lowest and highest set points, the least gap between heating and
 * cooling), in a; NULL when nothing is, else *param names the set point. */
const char *climate_set_points_problem(arena *a, json_t *props, json_t *asked, const char **param);

/* Brings is_heating, is_cooling, is_fan_running and temperature_fahrenheit
 * up to date with the setting and the temperature; true when the
 * thermostat heats or cools, that is, when its temperature moves. */
bool climate_settle(json_t *props);

/* Moves the temperature toward the set point the thermostat heats or
 * cools to, by `tenths` tenths of a degree Celsius at most (it stops at
 * the set point); then settles: true when it still moves. */
bool climate_move(json_t *props, long tenths);

#endif
