/* Thermostat actions on a thermostat's properties (climate.h). */
#include "jobs/climate.h"

#include <jansson.h>
#include <string.h>

#include "core/json_text.h"
#include "core/temperature.h"

bool climate_action(const char *action_type)
{
    return strcmp(action_type, "SET_HVAC_MODE") == 0 || strcmp(action_type, "SET_FAN_MODE") == 0;
}

/* Copies a set point (by its Celsius key) into the setting, in both units. */
static void set_point(json_t *setting, json_t *params, const char *celsius_key,
                      const char *fahrenheit_key)
{
    json_t *c = json_object_get(params, celsius_key);
    if (!json_is_number(c))
        return;
    json_object_set_new(setting, celsius_key, json_real(json_number_value(c)));
    json_object_set_new(setting, fahrenheit_key,
                        json_real(temperature_fahrenheit(json_number_value(c))));
}

static const char *climate_apply(arena *a, const char *extra_properties, const char *action_type,
                                 const char *params)
{
    json_t *props = json_loads(extra_properties ? extra_properties : "{}", 0, NULL);
    json_t *asked = json_loads(params ? params : "{}", 0, NULL);
    const char *out = NULL;
    if (json_is_object(props) && json_is_object(asked)) {
        json_t *setting = json_object_get(props, "current_climate_setting");
        if (!json_is_object(setting)) {
            setting = json_object();
            json_object_set_new(props, "current_climate_setting", setting);
        }
        if (strcmp(action_type, CLIMATE_THRESHOLD) == 0) {
            json_object_set(props, CLIMATE_THRESHOLD, asked);
        } else if (strcmp(action_type, "SET_HVAC_MODE") == 0) {
            json_object_set(setting, "hvac_mode_setting", json_object_get(asked, "hvac_mode_setting"));
            set_point(setting, asked, "heating_set_point_celsius", "heating_set_point_fahrenheit");
            set_point(setting, asked, "cooling_set_point_celsius", "cooling_set_point_fahrenheit");
        } else {
            json_t *fan = json_object_get(asked, "fan_mode_setting");
            json_object_set(setting, "fan_mode_setting", fan);
            json_object_set(props, "fan_mode_setting", fan);
        }
        out = json_text(a, json_incref(props));
    }
    json_decref(props);
    json_decref(asked);
    return out;
}

err climate_write(store *s, const store_scope *scope, const char *device_id, const char *what,
                  const char *params)
{
    arena a;
    arena_init(&a);
    store_device d;
    err e = store_device_get(s, &a, scope, device_id, NULL, true, &d);
    const char *props = err_failed(e) ? NULL : climate_apply(&a, d.extra_properties, what, params);
    if (props)
        e = store_device_set_extra_properties(s, scope, device_id, props);
    arena_free(&a);
    return e;
}
