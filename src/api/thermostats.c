/* thermostats/get and list (devices of the thermostat types, scoped as
 * devices are); heat, cool, heat_cool, off, set_hvac_mode and set_fan_mode
 * as action attempts (SET_HVAC_MODE, SET_FAN_MODE) that the worker applies
 * to the thermostat's current_climate_setting; set_temperature_threshold at
 * once. Set points come in Celsius or Fahrenheit and are kept in both. */
#include <string.h>

#include "api/actions.h"
#include "api/devices.h"
#include "core/json_text.h"
#include "jobs/climate.h"

err thermostats_get(api_call *c) { return get_device_of(c, DEVICE_THERMOSTAT, "thermostat"); }

err thermostats_list(api_call *c) { return list_devices_of(c, DEVICE_THERMOSTAT, "thermostats"); }

/* A temperature given in Celsius or Fahrenheit (<base>_celsius or
 * <base>_fahrenheit, not both), as Celsius into asked[<base>_celsius]. */
static void read_temperature(api_call *c, json_t *asked, const char *base)
{
    const char *ck = arena_sprintf(c->a, "%s_celsius", base);
    const char *fk = arena_sprintf(c->a, "%s_fahrenheit", base);
    double celsius = 0, fahrenheit = 0;
    bool has_c = param_number(c->p, ck, -50, 100, &celsius);
    bool has_f = param_number(c->p, fk, -58, 212, &fahrenheit);
    if (has_c && has_f)
        param_reject(c->p, fk, arena_sprintf(c->a, "Give %s or %s, not both", ck, fk));
    else if (has_c || has_f)
        json_object_set_new(asked, ck, json_real(has_c ? celsius : (fahrenheit - 32) * 5 / 9));
}

/* The thermostat in scope, with the caller's sync; then the attempt. */
static err start(api_call *c, const char *action_type, json_t *asked)
{
    const char *device_id = param_required_str(c->p, "device_id");
    bool sync = false;
    param_bool(c->p, "sync", &sync);
    err e = params_check(c->p);
    store_device d;
    if (err_failed(e) || err_failed(e = find_device_of(c, DEVICE_THERMOSTAT, device_id, NULL, &d))) {
        json_decref(asked);
        return e;
    }
    return action_start(c, &d, action_type, json_text(c->a, asked), sync);
}

/* SET_HVAC_MODE to mode, with the set points the mode uses (any, for
 * set_hvac_mode, which documents all four). */
static err set_mode(api_call *c, const char *mode, bool any_points)
{
    json_t *asked = json_pack("{s:s}", "hvac_mode_setting", mode);
    bool heats = any_points || strcmp(mode, "heat") == 0 || strcmp(mode, "heat_cool") == 0;
    bool cools = any_points || strcmp(mode, "cool") == 0 || strcmp(mode, "heat_cool") == 0;
    if (heats)
        read_temperature(c, asked, "heating_set_point");
    if (cools)
        read_temperature(c, asked, "cooling_set_point");
    json_t *heat = json_object_get(asked, "heating_set_point_celsius");
    json_t *cool = json_object_get(asked, "cooling_set_point_celsius");
    if (heat && cool && json_number_value(heat) >= json_number_value(cool))
        param_reject(c->p, "heating_set_point_celsius",
                     "The heating set point must be below the cooling set point");
    return start(c, "SET_HVAC_MODE", asked);
}

err thermostats_heat(api_call *c) { return set_mode(c, "heat", false); }
err thermostats_cool(api_call *c) { return set_mode(c, "cool", false); }
err thermostats_heat_cool(api_call *c) { return set_mode(c, "heat_cool", false); }
err thermostats_off(api_call *c) { return set_mode(c, "off", false); }

err thermostats_set_hvac_mode(api_call *c)
{
    static const char *const MODES[] = {"off", "heat", "cool", "heat_cool", "eco"};
    const char *mode = param_required_str(c->p, "hvac_mode_setting");
    bool known = false;
    for (size_t i = 0; mode && i < sizeof MODES / sizeof *MODES; i++)
        known = known || strcmp(mode, MODES[i]) == 0;
    if (mode && !known)
        param_reject(c->p, "hvac_mode_setting", "Expected off, heat, cool, heat_cool or eco");
    return set_mode(c, known ? mode : "off", true);
}

err thermostats_set_fan_mode(api_call *c)
{
    /* fan_mode is the deprecated name of fan_mode_setting. */
    const char *mode = NULL, *old = NULL;
    param_nonempty_str(c->p, "fan_mode_setting", &mode);
    param_nonempty_str(c->p, "fan_mode", &old);
    if (!mode)
        mode = old;
    if (!mode)
        param_reject(c->p, "fan_mode_setting", "Required");
    else if (strcmp(mode, "auto") != 0 && strcmp(mode, "on") != 0 && strcmp(mode, "circulate") != 0)
        param_reject(c->p, old && mode == old ? "fan_mode" : "fan_mode_setting",
                     "Expected auto, on or circulate");
    return start(c, "SET_FAN_MODE", json_pack("{s:s}", "fan_mode_setting", mode ? mode : "auto"));
}

typedef struct threshold {
    store_scope scope;
    const char *device_id;
    const char *limits; /* serialized */
} threshold;

static err write_threshold(store *s, void *ctx)
{
    threshold *t = ctx;
    return climate_write(s, &t->scope, t->device_id, CLIMATE_THRESHOLD, t->limits);
}

/* Below lower or above upper: the thermostat's threshold (no attempt). */
err thermostats_set_temperature_threshold(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    json_t *limits = json_object();
    read_temperature(c, limits, "lower_limit");
    read_temperature(c, limits, "upper_limit");
    json_t *low = json_object_get(limits, "lower_limit_celsius");
    json_t *high = json_object_get(limits, "upper_limit_celsius");
    if (low && high && json_number_value(low) >= json_number_value(high))
        param_reject(c->p, "lower_limit_celsius", "The lower limit must be below the upper limit");
    const char *keys[] = {"lower_limit", "upper_limit"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(limits, arena_sprintf(c->a, "%s_celsius", keys[i]));
        if (v)
            json_object_set_new(limits, arena_sprintf(c->a, "%s_fahrenheit", keys[i]),
                                json_real(json_number_value(v) * 9 / 5 + 32));
    }
    err e = params_check(c->p);
    store_device d;
    if (!err_failed(e))
        e = find_device_of(c, DEVICE_THERMOSTAT, device_id, NULL, &d);
    if (!err_failed(e)) {
        threshold t = {api_scope(c, NULL), d.device_id, json_text(c->a, json_incref(limits))};
        e = store_transaction(c->srv->store, write_threshold, &t);
    }
    json_decref(limits);
    if (!err_failed(e))
        c->out = json_object();
    return e;
}
