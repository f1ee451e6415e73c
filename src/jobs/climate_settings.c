/* Thermostat settings as JSON (climate_settings.h). */
#include "jobs/climate_settings.h"

#include <stdio.h>
#include <string.h>

#include "core/temperature.h"

/* Presets a thermostat keeps at most: its properties are in every answer
 * that shows it. */
enum { MAX_PRESETS = 100 };

static json_t *get(json_t *o, const char *key) { return json_object_get(o, key); }

static bool is(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* The thermostat's current_climate_setting, made when it has none. */
static json_t *setting_of(json_t *props)
{
    json_t *setting = get(props, "current_climate_setting");
    if (!json_is_object(setting)) {
        setting = json_object();
        json_object_set_new(props, "current_climate_setting", setting);
    }
    return setting;
}

/* Copies the set points of `from` (named by their Celsius keys) into `to`,
 * in both units. */
static void copy_set_points(json_t *to, json_t *from)
{
    static const char *const POINTS[] = {"heating_set_point", "cooling_set_point"};
    for (size_t i = 0; i < sizeof POINTS / sizeof *POINTS; i++) {
        char celsius_key[40], fahrenheit_key[40];
        snprintf(celsius_key, sizeof celsius_key, "%s_celsius", POINTS[i]);
        snprintf(fahrenheit_key, sizeof fahrenheit_key, "%s_fahrenheit", POINTS[i]);
        json_t *c = get(from, celsius_key);
        if (!json_is_number(c))
            continue;
        double v = json_number_value(c);
        json_object_set_new(to, celsius_key, json_real(v));
        json_object_set_new(to, fahrenheit_key, json_real(temperature_fahrenheit(v)));
    }
}

/* What names the preset a setting came from: a change made by hand (a
 * mode, a fan mode) ends it, the settings themselves staying. */
static void forget_preset(json_t *setting)
{
    static const char *const IDENTITY[] = {
        "climate_preset_key", "name", "display_name", "climate_preset_mode", "can_edit",
        "can_delete", "can_use_with_thermostat_daily_programs", "ecobee_metadata"};
    for (size_t i = 0; i < sizeof IDENTITY / sizeof *IDENTITY; i++)
        json_object_del(setting, IDENTITY[i]);
}

/* The preset with this key, and its place in available_climate_presets. */
static json_t *find_preset(json_t *props, json_t *key, size_t *at)
{
    json_t *presets = get(props, "available_climate_presets");
    json_t *p;
    size_t i;
    json_array_foreach(presets, i, p) {
        if (json_is_string(key) && is(get(p, "climate_preset_key"), json_string_value(key))) {
            *at = i;
            return p;
        }
    }
    return NULL;
}

static bool is_active(json_t *props, json_t *key)
{
    json_t *setting = get(props, "current_climate_setting");
    return json_is_string(key) && is(get(setting, "climate_preset_key"), json_string_value(key));
}

static err refuse(const char **param, const char *name, err e)
{
    if (param)
        *param = name;
    return e;
}

static err preset_not_found(const char **param)
{
    return refuse(param, "climate_preset_key",
                  err_make(ERR_NOT_FOUND, "climate_preset_not_found",
                           "The thermostat has no climate preset with this key."));
}

static err invalid(const char **param, const char *name, const char *message)
{
    return refuse(param, name, err_make(ERR_BAD_REQUEST, "invalid_input", message));
}

const char *climate_set_points_problem(arena *a, json_t *props, json_t *asked, const char **param)
{
    static const struct {
        const char *point, *min, *max, *what;
    } LIMITS[] = {
        {"heating_set_point_celsius", "min_heating_set_point_celsius",
         "max_heating_set_point_celsius", "heating"},
        {"cooling_set_point_celsius", "min_cooling_set_point_celsius",
         "max_cooling_set_point_celsius", "cooling"},
    };
    for (size_t i = 0; i < sizeof LIMITS / sizeof *LIMITS; i++) {
        json_t *v = get(asked, LIMITS[i].point), *lo = get(props, LIMITS[i].min),
               *hi = get(props, LIMITS[i].max);
        if (!json_is_number(v) || !json_is_number(lo) || !json_is_number(hi))
            continue;
        double low = json_number_value(lo), high = json_number_value(hi);
        if (json_number_value(v) < low || json_number_value(v) > high) {
            *param = LIMITS[i].point;
            return arena_sprintf(a, "The thermostat takes a %s set point between %g °C (%g °F) "
                                    "and %g °C (%g °F)", LIMITS[i].what, low,
                                 temperature_fahrenheit(low), high, temperature_fahrenheit(high));
        }
    }
    json_t *heat = get(asked, "heating_set_point_celsius");
    json_t *cool = get(asked, "cooling_set_point_celsius");
    if (!json_is_number(heat) || !json_is_number(cool))
        return NULL;
    double gap = json_number_value(cool) - json_number_value(heat);
    json_t *delta = get(props, "min_heating_cooling_delta_celsius");
    const char *problem = NULL;
    if (json_is_number(delta) && gap < json_number_value(delta) - 1e-9)
        problem = arena_sprintf(a, "The cooling set point must be at least %g °C (%g °F) above "
                                   "the heating set point", json_number_value(delta),
                                temperature_fahrenheit_delta(json_number_value(delta)));
    else if (gap <= 0)
        problem = "The heating set point must be below the cooling set point";
    if (problem)
        *param = "heating_set_point_celsius";
    return problem;
}

/* A preset's fields asked for, onto preset (set points in both units),
 * and its display name: its name, or else its key. */
static void merge_preset(json_t *preset, json_t *asked)
{
    static const char *const FIELDS[] = {"name", "climate_preset_mode", "hvac_mode_setting",
                                         "fan_mode_setting", "manual_override_allowed",
                                         "ecobee_metadata"};
    for (size_t i = 0; i < sizeof FIELDS / sizeof *FIELDS; i++) {
        json_t *v = get(asked, FIELDS[i]);
        if (v)
            json_object_set_new(preset, FIELDS[i], json_deep_copy(v));
    }
    copy_set_points(preset, asked);
    json_t *name = get(preset, "name");
    json_object_set(preset, "display_name",
                    json_is_string(name) ? name : get(preset, "climate_preset_key"));
}

/* Whether the preset makes sense on this thermostat: the set points its
 * mode uses, within the thermostat's limits. */
static err preset_problem(arena *a, json_t *props, json_t *preset, const char **param)
{
    json_t *mode = get(preset, "hvac_mode_setting");
    bool heats = is(mode, "heat") || is(mode, "heat_cool");
    bool cools = is(mode, "cool") || is(mode, "heat_cool");
    if (heats && !json_is_number(get(preset, "heating_set_point_celsius")))
        return invalid(param, "heating_set_point_celsius",
                       "A preset that heats needs a heating set point");
    if (cools && !json_is_number(get(preset, "cooling_set_point_celsius")))
        return invalid(param, "cooling_set_point_celsius",
                       "A preset that cools needs a cooling set point");
    const char *at = NULL;
    const char *problem = climate_set_points_problem(a, props, preset, &at);
    return problem ? invalid(param, at, problem) : ERR_NONE;
}

/* The preset becomes the thermostat's setting (what it does not set stays
 * as it was). */
static void activate(json_t *props, json_t *preset)
{
    json_t *setting = setting_of(props);
    forget_preset(setting);
    json_t *copy = json_deep_copy(preset);
    json_object_update(setting, copy);
    json_decref(copy);
    json_t *fan = get(setting, "fan_mode_setting");
    if (fan)
        json_object_set(props, "fan_mode_setting", fan);
}

typedef err (*change_fn)(arena *a, json_t *props, json_t *asked, const char **param);

static err set_hvac_mode(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a, (void)param;
    json_t *setting = setting_of(props);
    forget_preset(setting);
    json_object_set(setting, "hvac_mode_setting", get(asked, "hvac_mode_setting"));
    copy_set_points(setting, asked);
    return ERR_NONE;
}

static err set_fan_mode(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a, (void)param;
    json_t *setting = setting_of(props);
    forget_preset(setting);
    json_t *fan = get(asked, "fan_mode_setting");
    json_object_set(setting, "fan_mode_setting", fan);
    json_object_set(props, "fan_mode_setting", fan);
    return ERR_NONE;
}

static err set_threshold(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a, (void)param;
    json_object_set(props, CLIMATE_THRESHOLD, asked);
    return ERR_NONE;
}

static err activate_preset(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a;
    size_t at;
    json_t *preset = find_preset(props, get(asked, "climate_preset_key"), &at);
    if (!preset)
        return preset_not_found(param);
    activate(props, preset);
    return ERR_NONE;
}

static err create_preset(arena *a, json_t *props, json_t *asked, const char **param)
{
    json_t *key = get(asked, "climate_preset_key");
    json_t *presets = get(props, "available_climate_presets");
    size_t at;
    if (find_preset(props, key, &at))
        return refuse(param, "climate_preset_key",
                      err_make(ERR_BAD_REQUEST, "climate_preset_key_already_exists",
                               "The thermostat has a climate preset with this key already."));
    if (json_array_size(presets) >= MAX_PRESETS)
        return refuse(param, "climate_preset_key",
                      err_make(ERR_BAD_REQUEST, "too_many_climate_presets",
                               "The thermostat keeps 100 climate presets at most."));
    json_t *preset = json_pack("{s:O,s:n,s:b,s:b,s:b,s:b}", "climate_preset_key", key, "name",
                               "can_edit", 1, "can_delete", 1,
                               "can_use_with_thermostat_daily_programs", 0,
                               "manual_override_allowed", 1);
    merge_preset(preset, asked);
    err e = preset_problem(a, props, preset, param);
    if (err_failed(e)) {
        json_decref(preset);
        return e;
    }
    if (!json_is_array(presets)) {
        presets = json_array();
        json_object_set_new(props, "available_climate_presets", presets);
    }
    json_array_append_new(presets, preset);
    return ERR_NONE;
}

static err update_preset(arena *a, json_t *props, json_t *asked, const char **param)
{
    json_t *key = get(asked, "climate_preset_key");
    size_t at;
    json_t *preset = find_preset(props, key, &at);
    if (!preset)
        return preset_not_found(param);
    json_t *changed = json_deep_copy(preset);
    merge_preset(changed, asked);
    err e = preset_problem(a, props, changed, param);
    if (err_failed(e)) {
        json_decref(changed);
        return e;
    }
    json_array_set_new(get(props, "available_climate_presets"), at, changed);
    if (is_active(props, key)) /* the thermostat follows its preset */
        activate(props, changed);
    return ERR_NONE;
}

static err delete_preset(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a;
    json_t *key = get(asked, "climate_preset_key");
    size_t at;
    json_t *preset = find_preset(props, key, &at);
    if (!preset)
        return preset_not_found(param);
    if (json_is_false(get(preset, "can_delete")))
        return refuse(param, "climate_preset_key",
                      err_make(ERR_BAD_REQUEST, "climate_preset_cannot_be_deleted",
                               "This climate preset is the thermostat's own: it can be changed, "
                               "not deleted."));
    if (is(get(props, "fallback_climate_preset_key"), json_string_value(key)))
        json_object_set_new(props, "fallback_climate_preset_key", json_null());
    if (is_active(props, key)) /* its settings stay, no longer a preset's */
        forget_preset(setting_of(props));
    json_array_remove(get(props, "available_climate_presets"), at);
    return ERR_NONE;
}

static err set_fallback(arena *a, json_t *props, json_t *asked, const char **param)
{
    (void)a;
    json_t *key = get(asked, "climate_preset_key");
    size_t at;
    if (!find_preset(props, key, &at))
        return preset_not_found(param);
    json_object_set(props, "fallback_climate_preset_key", key);
    return ERR_NONE;
}

err climate_settings_apply(arena *a, json_t *props, const char *what, json_t *asked,
                           const char **param)
{
    static const struct {
        const char *what;
        change_fn fn;
    } CHANGES[] = {
        {"SET_HVAC_MODE", set_hvac_mode},
        {"SET_FAN_MODE", set_fan_mode},
        {"ACTIVATE_CLIMATE_PRESET", activate_preset},
        {CLIMATE_THRESHOLD, set_threshold},
        {CLIMATE_PRESET_CREATE, create_preset},
        {CLIMATE_PRESET_UPDATE, update_preset},
        {CLIMATE_PRESET_DELETE, delete_preset},
        {CLIMATE_PRESET_FALLBACK, set_fallback},
    };
    for (size_t i = 0; i < sizeof CHANGES / sizeof *CHANGES; i++)
        if (strcmp(CHANGES[i].what, what) == 0)
            return CHANGES[i].fn(a, props, asked, param);
    return err_make(ERR_INTERNAL, "internal_error", "Unknown thermostat change.");
}

/* Whether the thermostat heats (*direction 1) or cools (-1) toward
 * *target: its mode uses that set point and the temperature has not
 * reached it. Eco keeps the temperature between both set points, as
 * heat_cool does. */
static bool demand(json_t *props, double *target, int *direction)
{
    json_t *t = get(props, "temperature_celsius");
    json_t *setting = get(props, "current_climate_setting");
    json_t *mode = get(setting, "hvac_mode_setting");
    json_t *heat = get(setting, "heating_set_point_celsius");
    json_t *cool = get(setting, "cooling_set_point_celsius");
    if (!json_is_number(t))
        return false;
    bool both = is(mode, "heat_cool") || is(mode, "eco");
    if ((both || is(mode, "heat")) && json_is_number(heat) &&
        json_number_value(t) < json_number_value(heat)) {
        *target = json_number_value(heat);
        *direction = 1;
        return true;
    }
    if ((both || is(mode, "cool")) && json_is_number(cool) &&
        json_number_value(t) > json_number_value(cool)) {
        *target = json_number_value(cool);
        *direction = -1;
        return true;
    }
    return false;
}

bool climate_settle(json_t *props)
{
    double target = 0;
    int direction = 0;
    bool moves = demand(props, &target, &direction);
    json_t *setting = get(props, "current_climate_setting");
    json_t *fan = get(setting, "fan_mode_setting");
    if (!fan)
        fan = get(props, "fan_mode_setting");
    json_object_set_new(props, "is_heating", json_boolean(moves && direction > 0));
    json_object_set_new(props, "is_cooling", json_boolean(moves && direction < 0));
    json_object_set_new(props, "is_fan_running",
                        json_boolean(moves || is(fan, "on") || is(fan, "circulate")));
    json_t *t = get(props, "temperature_celsius");
    if (json_is_number(t))
        json_object_set_new(props, "temperature_fahrenheit",
                            json_real(temperature_fahrenheit(json_number_value(t))));
    return moves;
}

bool climate_move(json_t *props, long tenths)
{
    double target = 0;
    int direction = 0;
    if (demand(props, &target, &direction)) {
        double next = json_number_value(get(props, "temperature_celsius")) +
                      direction * 0.1 * (double)tenths;
        bool reached = direction > 0 ? next >= target : next <= target;
        json_object_set_new(props, "temperature_celsius",
                            json_real(reached ? target : temperature_rounded(next, 100)));
    }
    return climate_settle(props);
}
