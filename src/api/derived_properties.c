/* Properties derived from those a device has (derived_properties.h). */
#include "api/derived_properties.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/temperature.h"

static const char CELSIUS[] = "_celsius";

/* Whether key is X_celsius; *base: the length of X. */
static bool celsius_key(const char *key, size_t *base)
{
    size_t len = strlen(key);
    if (len < sizeof CELSIUS)
        return false;
    *base = len - (sizeof CELSIUS - 1);
    return strcmp(key + *base, CELSIUS) == 0;
}

/* In v and every object under it: X_fahrenheit beside each X_celsius that
 * has none (a difference, min_heating_cooling_delta_celsius, without the
 * offset). Keys too long for the buffer are no property of the API. */
static void add_fahrenheit(json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
            add_fahrenheit(item);
        return;
    }
    if (!json_is_object(v))
        return;
    json_t *twins = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        add_fahrenheit(value);
        size_t base;
        char twin[96];
        if (!json_is_number(value) || !celsius_key(key, &base) ||
            snprintf(twin, sizeof twin, "%.*s_fahrenheit", (int)base, key) >= (int)sizeof twin)
            continue;
        double c = json_number_value(value);
        json_object_set_new(twins, twin,
                            json_real(strstr(key, "_delta_") ? temperature_fahrenheit_delta(c)
                                                             : temperature_fahrenheit(c)));
    }
    json_object_update_missing(v, twins);
    json_decref(twins);
}

/* The modes its heating and cooling allow, when the thermostat names none
 * (those a latchkey before climate presets stored). */
static void add_hvac_modes(json_t *p)
{
    if (json_object_get(p, "available_hvac_mode_settings"))
        return;
    bool heats = json_is_true(json_object_get(p, "is_heating_available"));
    bool cools = json_is_true(json_object_get(p, "is_cooling_available"));
    json_t *modes = json_array();
    if (heats)
        json_array_append_new(modes, json_string("heat"));
    if (cools)
        json_array_append_new(modes, json_string("cool"));
    if (heats && cools)
        json_array_append_new(modes, json_string("heat_cool"));
    json_array_append_new(modes, json_string("off"));
    json_object_set_new(p, "available_hvac_mode_settings", modes);
}

/* A Minut sensor's noise level where Seam puts its latest sound reading. */
static void add_minut_sound(json_t *p)
{
    json_t *level = json_object_get(p, "noise_level_decibels");
    if (!json_is_number(level) || json_object_get(p, "minut_metadata"))
        return;
    json_object_set_new(p, "minut_metadata",
                        json_pack("{s:{s:{s:O}}}", "latest_sensor_values", "sound", "value", level));
}

void derived_properties_add(json_t *properties, device_category cat, const char *device_type)
{
    add_fahrenheit(properties);
    if (cat == DEVICE_THERMOSTAT)
        add_hvac_modes(properties);
    if (device_type && strcmp(device_type, "minut_sensor") == 0)
        add_minut_sound(properties);
}
