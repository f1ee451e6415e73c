/* thermostats/get and list (devices of the thermostat types, scoped as
 * devices are); heat, cool, heat_cool, off, set_hvac_mode and set_fan_mode
 * as action attempts (SET_HVAC_MODE, SET_FAN_MODE) that the worker applies
 * to the thermostat's current_climate_setting; set_temperature_threshold at
 * once. Set points come in Celsius or Fahrenheit, are kept in both, and
 * must be ones the thermostat takes. Climate presets: climate_presets.c. */
#include "api/thermostats.h"

#include <string.h>

#include "api/actions.h"
#include "api/devices.h"
#include "core/json_text.h"
#include "core/temperature.h"
#include "jobs/climate.h"

const char *const THERMOSTAT_HVAC_MODES[] = {"off", "heat", "cool", "heat_cool", "eco", NULL};
const char *const THERMOSTAT_FAN_MODES[] = {"auto", "on", "circulate", NULL};

err thermostats_get(api_call *c) { return get_device_of(c, DEVICE_THERMOSTAT, "thermostat"); }

err thermostats_list(api_call *c) { return list_devices_of(c, DEVICE_THERMOSTAT, "thermostats"); }

void thermostat_read_temperature(api_call *c, json_t *asked, const char *base)
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

err thermostat_find(api_call *c, const char *device_id, store_device *d)
{
    err e = params_check(c->p);
    return err_failed(e) ? e : find_device_of(c, DEVICE_THERMOSTAT, device_id, NULL, d);
}

err thermostat_check_set_points(api_call *c, const store_device *d, json_t *asked)
{
    json_t *props = json_loads(d->extra_properties ? d->extra_properties : "{}", 0, NULL);
    const char *param = NULL;
    const char *problem =
        json_is_object(props) ? climate_set_points_problem(c->a, props, asked, &param) : NULL;
    json_decref(props);
    if (problem)
        param_reject(c->p, param, problem);
    return params_check(c->p);
}

typedef struct change {
    store_scope scope;
    arena *a;
    const char *device_id, *what, *asked;
    int64_t now;
    const char *param; /* the parameter a refusal names */
} change;

static err write_change(store *s, void *ctx)
{
    change *ch = ctx;
    return climate_write(s, ch->a, &ch->scope, ch->device_id, ch->what, ch->asked, ch->now,
                         &ch->param);
}

err thermostat_change(api_call *c, const store_device *d, const char *what, json_t *asked)
{
    change ch = {.scope = api_scope(c, NULL), .a = c->a, .device_id = d->device_id,
                 .what = what, .asked = json_text(c->a, asked), .now = c->now};
    err e = store_transaction(c->srv->store, write_change, &ch);
    if (ch.param && e.type && strcmp(e.type, "invalid_input") == 0) {
        param_reject(c->p, ch.param, e.message);
        return params_check(c->p);
    }
    if (!err_failed(e))
        c->out = json_object();
    return e;
}

/* The thermostat in scope, its set points checked, with the caller's sync;
 * then the attempt. */
static err start(api_call *c, const char *action_type, json_t *asked)
{
    const char *device_id = param_required_str(c->p, "device_id");
    bool sync = false;
    param_bool(c->p, "sync", &sync);
    store_device d;
    err e = thermostat_find(c, device_id, &d);
    if (!err_failed(e))
        e = thermostat_check_set_points(c, &d, asked);
    if (err_failed(e)) {
        json_decref(asked);
        return e;
    }
    return action_start(c, &d, action_type, json_text(c->a, asked), sync, NULL);
}

/* SET_HVAC_MODE to mode, with the set points the mode uses (any, for
 * set_hvac_mode, which documents all four). */
static err set_mode(api_call *c, const char *mode, bool any_points)
{
    json_t *asked = json_pack("{s:s}", "hvac_mode_setting", mode);
    bool heats = any_points || strcmp(mode, "heat") == 0 || strcmp(mode, "heat_cool") == 0;
    bool cools = any_points || strcmp(mode, "cool") == 0 || strcmp(mode, "heat_cool") == 0;
    if (heats)
        thermostat_read_temperature(c, asked, "heating_set_point");
    if (cools)
        thermostat_read_temperature(c, asked, "cooling_set_point");
    return start(c, "SET_HVAC_MODE", asked);
}

err thermostats_heat(api_call *c) { return set_mode(c, "heat", false); }
err thermostats_cool(api_call *c) { return set_mode(c, "cool", false); }
err thermostats_heat_cool(api_call *c) { return set_mode(c, "heat_cool", false); }
err thermostats_off(api_call *c) { return set_mode(c, "off", false); }

/* One of choices under key (or, when old_key is not NULL, under that
 * deprecated name of it); "Required" when neither is given. */
static const char *required_choice(api_call *c, const char *key, const char *old_key,
                                   const char *const *choices)
{
    const char *v = NULL, *old = NULL;
    param_choice(c->p, key, choices, &v);
    if (old_key)
        param_choice(c->p, old_key, choices, &old);
    bool given = param_present(c->p, key) || (old_key && param_present(c->p, old_key));
    if (!given)
        param_reject(c->p, key, "Required");
    return v ? v : old;
}

err thermostats_set_hvac_mode(api_call *c)
{
    const char *mode = required_choice(c, "hvac_mode_setting", NULL, THERMOSTAT_HVAC_MODES);
    return set_mode(c, mode ? mode : "off", true);
}

err thermostats_set_fan_mode(api_call *c)
{
    /* fan_mode is the deprecated name of fan_mode_setting. */
    const char *mode = required_choice(c, "fan_mode_setting", "fan_mode", THERMOSTAT_FAN_MODES);
    return start(c, "SET_FAN_MODE", json_pack("{s:s}", "fan_mode_setting", mode ? mode : "auto"));
}

/* Below lower or above upper: the thermostat's threshold (no attempt);
 * a limit not given is null. */
err thermostats_set_temperature_threshold(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    json_t *given = json_object();
    thermostat_read_temperature(c, given, "lower_limit");
    thermostat_read_temperature(c, given, "upper_limit");
    json_t *low = json_object_get(given, "lower_limit_celsius");
    json_t *high = json_object_get(given, "upper_limit_celsius");
    if (low && high && json_number_value(low) >= json_number_value(high))
        param_reject(c->p, "lower_limit_celsius", "The lower limit must be below the upper limit");
    json_t *limits = json_object();
    const char *keys[] = {"lower_limit", "upper_limit"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(given, arena_sprintf(c->a, "%s_celsius", keys[i]));
        json_object_set_new(limits, arena_sprintf(c->a, "%s_celsius", keys[i]),
                            v ? json_real(json_number_value(v)) : json_null());
        json_object_set_new(limits, arena_sprintf(c->a, "%s_fahrenheit", keys[i]),
                            v ? json_real(temperature_fahrenheit(json_number_value(v))) : json_null());
    }
    json_decref(given);
    store_device d;
    err e = thermostat_find(c, device_id, &d);
    if (err_failed(e)) {
        json_decref(limits);
        return e;
    }
    return thermostat_change(c, &d, CLIMATE_THRESHOLD, limits);
}
