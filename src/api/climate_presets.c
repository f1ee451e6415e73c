/* thermostats/create_climate_preset, update_climate_preset,
 * delete_climate_preset and set_fallback_climate_preset change the
 * thermostat's presets at once (its available_climate_presets and
 * fallback_climate_preset_key); activate_climate_preset is an action
 * attempt (ACTIVATE_CLIMATE_PRESET) that the worker applies to its
 * current_climate_setting. What each does to the properties:
 * jobs/climate_settings.c. */
#include <string.h>

#include "api/actions.h"
#include "api/thermostats.h"
#include "core/json_text.h"
#include "jobs/climate_settings.h"

/* ecobee_metadata as the OpenAPI documents it, into asked. */
static void read_ecobee_metadata(api_call *c, json_t *asked)
{
    json_t *meta = NULL;
    if (!param_object(c->p, "ecobee_metadata", &meta))
        return;
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v) {
        bool ok = strcmp(key, "climate_ref") == 0   ? json_is_string(v)
                  : strcmp(key, "is_optimized") == 0 ? json_is_boolean(v)
                  : strcmp(key, "owner") == 0
                      ? json_is_string(v) && (strcmp(json_string_value(v), "user") == 0 ||
                                              strcmp(json_string_value(v), "system") == 0)
                      : false;
        if (!ok)
            param_reject(c->p, "ecobee_metadata",
                         arena_sprintf(c->a, "ecobee_metadata.%s: expected climate_ref (a string), "
                                             "is_optimized (a boolean) or owner (user or system)",
                                       key));
    }
    json_object_set_new(asked, "ecobee_metadata", meta);
}

/* A preset's fields, as given, into asked (set points in Celsius). */
static void read_preset(api_call *c, json_t *asked)
{
    static const char *const PRESET_MODES[] = {"home", "away", "wake", "sleep", "occupied",
                                               "unoccupied", NULL};
    const struct {
        const char *key;
        const char *const *choices;
    } CHOICES[] = {{"climate_preset_mode", PRESET_MODES},
                   {"hvac_mode_setting", THERMOSTAT_HVAC_MODES},
                   {"fan_mode_setting", THERMOSTAT_FAN_MODES}};
    const char *v;
    for (size_t i = 0; i < sizeof CHOICES / sizeof *CHOICES; i++)
        if (param_choice(c->p, CHOICES[i].key, CHOICES[i].choices, &v))
            json_object_set_new(asked, CHOICES[i].key, json_string(v));
    if (param_null(c->p, "name")) /* back to none: the key is its display name */
        json_object_set_new(asked, "name", json_null());
    else if (param_str(c->p, "name", &v))
        json_object_set_new(asked, "name", json_string(v));
    bool allowed;
    if (param_bool(c->p, "manual_override_allowed", &allowed))
        json_object_set_new(asked, "manual_override_allowed", json_boolean(allowed));
    thermostat_read_temperature(c, asked, "heating_set_point");
    thermostat_read_temperature(c, asked, "cooling_set_point");
    read_ecobee_metadata(c, asked);
}

/* device_id and climate_preset_key (into asked), then the thermostat in
 * scope; asked is released on failure. */
static err preset_target(api_call *c, json_t *asked, store_device *d)
{
    const char *device_id = param_required_str(c->p, "device_id");
    const char *key = param_required_str(c->p, "climate_preset_key");
    if (key)
        json_object_set_new(asked, "climate_preset_key", json_string(key));
    err e = thermostat_find(c, device_id, d);
    if (err_failed(e))
        json_decref(asked);
    return e;
}

static err change_preset(api_call *c, const char *what, bool with_fields)
{
    json_t *asked = json_object();
    if (with_fields)
        read_preset(c, asked);
    store_device d;
    err e = preset_target(c, asked, &d);
    return err_failed(e) ? e : thermostat_change(c, &d, what, asked);
}

err thermostats_create_climate_preset(api_call *c)
{
    return change_preset(c, CLIMATE_PRESET_CREATE, true);
}

err thermostats_update_climate_preset(api_call *c)
{
    return change_preset(c, CLIMATE_PRESET_UPDATE, true);
}

err thermostats_delete_climate_preset(api_call *c)
{
    return change_preset(c, CLIMATE_PRESET_DELETE, false);
}

err thermostats_set_fallback_climate_preset(api_call *c)
{
    return change_preset(c, CLIMATE_PRESET_FALLBACK, false);
}

/* An unknown preset is refused now, not by a failed attempt: the change
 * tried on a copy of the properties as they are. */
err thermostats_activate_climate_preset(api_call *c)
{
    json_t *asked = json_object();
    store_device d;
    err e = preset_target(c, asked, &d);
    if (err_failed(e))
        return e;
    json_t *props = json_loads(d.extra_properties ? d.extra_properties : "{}", 0, NULL);
    if (json_is_object(props))
        e = climate_settings_apply(c->a, props, "ACTIVATE_CLIMATE_PRESET", asked, NULL);
    json_decref(props);
    return err_failed(e) ? (json_decref(asked), e)
                         : action_start(c, &d, "ACTIVATE_CLIMATE_PRESET", json_text(c->a, asked),
                                        false, NULL);
}
