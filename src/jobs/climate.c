/* Thermostats' properties in the store (climate.h). */
#include "jobs/climate.h"

#include <jansson.h>
#include <string.h>

#include "core/json_text.h"
#include "core/temperature.h"

/* Thermostats moved in one step at most; the rest are due at once after. */
enum { STEP_BATCH = 64 };

bool climate_action(const char *action_type)
{
    return strcmp(action_type, "SET_HVAC_MODE") == 0 || strcmp(action_type, "SET_FAN_MODE") == 0 ||
           strcmp(action_type, "ACTIVATE_CLIMATE_PRESET") == 0;
}

static json_t *object_of(const char *text)
{
    json_t *o = json_loads(text ? text : "{}", 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

const char *climate_event(arena *a, const char *action_type, const char *params,
                          const char **payload)
{
    json_t *asked = object_of(params);
    if (!asked)
        return NULL;
    bool preset = strcmp(action_type, "ACTIVATE_CLIMATE_PRESET") == 0;
    json_t *out = json_object();
    if (preset) {
        json_object_set(out, "climate_preset_key", json_object_get(asked, "climate_preset_key"));
        json_object_set_new(out, "is_fallback_climate_preset", json_false());
        json_object_set_new(out, "thermostat_schedule_id", json_null());
    } else {
        json_object_update(out, asked);
        json_object_set_new(out, "method", json_string("seam"));
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(asked, tmp, key, v) {
            size_t n = strlen(key);
            if (json_is_number(v) && n > 8 && strcmp(key + n - 8, "_celsius") == 0)
                json_object_set_new(out, arena_sprintf(a, "%.*s_fahrenheit", (int)(n - 8), key),
                                    json_real(temperature_fahrenheit(json_number_value(v))));
        }
    }
    json_decref(asked);
    *payload = json_text(a, out);
    return preset ? "thermostat.climate_preset_activated" : "thermostat.manually_adjusted";
}

err climate_write(store *s, arena *a, const store_scope *scope, const char *device_id,
                  const char *what, const char *params, int64_t now, const char **param)
{
    store_device d;
    err e = store_device_get(s, a, scope, device_id, NULL, true, &d);
    if (err_failed(e))
        return e;
    json_t *props = object_of(d.extra_properties);
    json_t *asked = object_of(params);
    if (props && asked)
        e = climate_settings_apply(a, props, what, asked, param);
    if (props && asked && !err_failed(e)) {
        int64_t moved_at = !climate_settle(props)  ? 0
                           : d.climate_moved_at ? d.climate_moved_at
                                                : now;
        e = store_device_set_properties(s, scope, device_id, json_text(a, json_incref(props)),
                                     moved_at);
    }
    json_decref(props);
    json_decref(asked);
    return e;
}

int64_t climate_tenth_ms(unsigned degrees_per_hour)
{
    /* An hour is 3,600,000 ms; a tenth of a degree a tenth of each degree. */
    return degrees_per_hour ? 360000 / (int64_t)degrees_per_hour : 0;
}

typedef struct motion {
    const store_device *due;
    int64_t now, tenth_ms;
} motion;

/* One thermostat's move, as of the row locked now: nothing when another
 * node moved it meanwhile (it is not due any more). */
static err move(store *s, void *ctx)
{
    const motion *m = ctx;
    arena a;
    arena_init(&a);
    store_scope scope = {.workspace_id = m->due->workspace_id};
    store_device d;
    /* An unmanaged thermostat heats or cools all the same. */
    err e = store_device_find(s, &a, &scope, STORE_DEVICE_ANY, m->due->device_id, NULL, true, &d);
    long tenths = err_failed(e) || !d.climate_moved_at
                      ? 0
                      : (long)((m->now - d.climate_moved_at) / m->tenth_ms);
    if (tenths > 0) {
        /* Properties that are not an object stop it (nothing can move). */
        json_t *props = object_of(d.extra_properties);
        bool moves = props && climate_move(props, tenths);
        const char *text = props ? json_text(&a, json_incref(props)) : d.extra_properties;
        json_decref(props);
        e = store_device_set_properties(s, &scope, d.device_id, text,
                                     moves ? d.climate_moved_at + tenths * m->tenth_ms : 0);
    }
    arena_free(&a);
    return store_not_found(e) ? ERR_NONE : e; /* deleted meanwhile */
}

err climate_step(store *s, int64_t now, int64_t tenth_ms, int64_t *next)
{
    *next = 0;
    if (!tenth_ms)
        return ERR_NONE;
    arena a;
    arena_init(&a);
    store_device *due = NULL;
    size_t n = 0;
    err e = store_thermostats_due(s, &a, now - tenth_ms, STEP_BATCH, &due, &n);
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        motion m = {&due[i], now, tenth_ms};
        e = store_transaction(s, move, &m);
    }
    int64_t first = 0;
    if (!err_failed(e))
        e = store_thermostats_first_moved(s, &first);
    arena_free(&a);
    if (first)
        *next = first + tenth_ms;
    return e;
}
