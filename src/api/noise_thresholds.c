/* noise_sensors/noise_thresholds/list, get, create, update and delete: the
 * noise thresholds of the noise sensors in scope. A change is written when
 * asked, and answered with an action attempt (CREATE_, UPDATE_ and
 * DELETE_NOISE_THRESHOLD) that says whether the sensor took it, as Seam's
 * are; created in the same transaction as the change. */
#include <ctype.h>
#include <string.h>

#include "api/actions.h"
#include "api/devices.h"
#include "api/render.h"
#include "core/ids.h"

/* [A-Za-z]+([ _][A-Za-z]+)* at *s, moving past it. */
static bool zone_name(const char **s)
{
    const char *p = *s;
    if (!isalpha((unsigned char)*p))
        return false;
    while (isalpha((unsigned char)*p) ||
           ((*p == ' ' || *p == '_') && isalpha((unsigned char)p[1])))
        p++;
    *s = p;
    return true;
}

/* A time of day as Seam takes it: "HH:MM:SS", optionally followed by an
 * IANA time zone, "[Region/City]". */
static bool time_of_day(const char *s)
{
    static const char SHAPE[] = "dd:dd:dd";
    for (size_t i = 0; i < sizeof SHAPE - 1; i++)
        if (SHAPE[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != SHAPE[i])
            return false;
    int h = (s[0] - '0') * 10 + s[1] - '0';
    if (h > 23 || s[3] > '5' || s[6] > '5')
        return false;
    const char *p = s + sizeof SHAPE - 1;
    if (!*p)
        return true;
    return *p++ == '[' && zone_name(&p) && *p++ == '/' && zone_name(&p) && strcmp(p, "]") == 0;
}

static void read_time(api_call *c, const char *key, const char **out)
{
    if (param_str(c->p, key, out) && !time_of_day(*out))
        param_reject(c->p, key, "Expected a time of day, HH:MM:SS, optionally with a time zone "
                                "as [Region/City]");
}

/* Name, times and levels as given, onto nt. */
static void read_threshold(api_call *c, store_noise_threshold *nt)
{
    param_str(c->p, "name", &nt->name);
    read_time(c, "starts_daily_at", &nt->starts_daily_at);
    read_time(c, "ends_daily_at", &nt->ends_daily_at);
    param_number(c->p, "noise_threshold_decibels", 0, 150, &nt->noise_threshold_decibels);
    param_number(c->p, "noise_threshold_nrs", 0, 100, &nt->noise_threshold_nrs);
}

/* The noise sensor in scope, once the parameters are checked; a Noise Risk
 * Score (NoiseAware's own measure) only for a NoiseAware sensor. */
static err find_sensor(api_call *c, const char *device_id, bool nrs, store_device *d)
{
    err e = params_check(c->p);
    if (err_failed(e) || err_failed(e = find_device_of(c, DEVICE_NOISE_SENSOR, device_id, NULL, d)))
        return e;
    if (nrs && strcmp(d->device_type, "noiseaware_activity_zone") != 0) {
        param_reject(c->p, "noise_threshold_nrs",
                     "Only NoiseAware sensors take a Noise Risk Score");
        return params_check(c->p);
    }
    return ERR_NONE;
}

err noise_thresholds_list(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    /* Every threshold latchkey keeps is on its sensor: all are programmed. */
    bool programmed = true;
    param_bool(c->p, "is_programmed", &programmed);
    store_device d;
    err e = find_sensor(c, device_id, false, &d);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_noise_threshold *rows = NULL;
    size_t n = 0;
    if (programmed)
        e = store_noise_threshold_list(c->srv->store, c->a, &scope, d.device_id, &rows, &n);
    if (err_failed(e))
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_noise_threshold(&rows[i]));
    c->out = json_pack("{s:o}", "noise_thresholds", arr);
    return ERR_NONE;
}

err noise_thresholds_get(api_call *c)
{
    const char *id = param_required_str(c->p, "noise_threshold_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_noise_threshold nt;
    e = store_noise_threshold_get(c->srv->store, c->a, &scope, id, NULL, false, &nt);
    if (err_failed(e))
        return e;
    c->out = json_pack("{s:o}", "noise_threshold", render_noise_threshold(&nt));
    return ERR_NONE;
}

/* A change of one threshold, made in the transaction of its attempt. */
typedef struct threshold_change {
    store_scope scope;
    arena *a;
    store_noise_threshold asked; /* NULL fields (negative levels): as they are */
} threshold_change;

static err insert_threshold(store *s, void *ctx)
{
    threshold_change *ch = ctx;
    return store_noise_threshold_create(s, &ch->asked);
}

static err update_threshold(store *s, void *ctx)
{
    threshold_change *ch = ctx;
    const store_noise_threshold *x = &ch->asked;
    store_noise_threshold nt;
    err e = store_noise_threshold_get(s, ch->a, &ch->scope, x->noise_threshold_id, x->device_id,
                                      true, &nt);
    if (err_failed(e))
        return e;
    nt.name = x->name ? x->name : nt.name;
    nt.starts_daily_at = x->starts_daily_at ? x->starts_daily_at : nt.starts_daily_at;
    nt.ends_daily_at = x->ends_daily_at ? x->ends_daily_at : nt.ends_daily_at;
    if (x->noise_threshold_decibels >= 0)
        nt.noise_threshold_decibels = x->noise_threshold_decibels;
    if (x->noise_threshold_nrs >= 0)
        nt.noise_threshold_nrs = x->noise_threshold_nrs;
    return store_noise_threshold_update(s, &ch->scope, &nt);
}

static err delete_threshold(store *s, void *ctx)
{
    threshold_change *ch = ctx;
    const store_noise_threshold *x = &ch->asked;
    store_noise_threshold nt; /* the device's, or not found */
    err e = store_noise_threshold_get(s, ch->a, &ch->scope, x->noise_threshold_id, x->device_id,
                                      true, &nt);
    return err_failed(e) ? e : store_noise_threshold_delete(s, &ch->scope, nt.noise_threshold_id);
}

/* Reads the change (for update and delete, of the threshold named), finds
 * the sensor, and starts the attempt with the change in its transaction. */
static err change(api_call *c, const char *action_type, err (*write)(store *, void *),
                  bool with_fields)
{
    const char *device_id = param_required_str(c->p, "device_id");
    threshold_change ch = {.a = c->a, .asked = {.noise_threshold_decibels = -1,
                                                .noise_threshold_nrs = -1}};
    store_noise_threshold *x = &ch.asked;
    bool creates = write == insert_threshold;
    if (!creates)
        x->noise_threshold_id = param_required_str(c->p, "noise_threshold_id");
    if (with_fields)
        read_threshold(c, x);
    if (creates) {
        static const char *const REQUIRED[] = {"starts_daily_at", "ends_daily_at",
                                               "noise_threshold_decibels"};
        for (size_t i = 0; i < sizeof REQUIRED / sizeof *REQUIRED; i++)
            if (!param_present(c->p, REQUIRED[i]))
                param_reject(c->p, REQUIRED[i], "Required");
    }
    bool sync = false;
    param_bool(c->p, "sync", &sync);
    store_device d;
    err e = find_sensor(c, device_id, x->noise_threshold_nrs >= 0, &d);
    if (err_failed(e))
        return e;
    ch.scope = api_scope(c, NULL);
    x->device_id = d.device_id;
    action_extra extra = {write, &ch, NULL};
    if (creates) {
        char *id = arena_alloc(c->a, UUID_STR_LEN);
        uuid_v4(id);
        x->noise_threshold_id = id;
        x->workspace_id = d.workspace_id;
        x->connected_account_id = d.connected_account_id;
        x->name = x->name ? x->name : "Noise threshold";
        x->created_at = c->now;
        extra.answer = json_pack("{s:o}", "noise_threshold", render_noise_threshold(x));
    }
    return action_start(c, &d, action_type, NULL, sync, &extra);
}

err noise_thresholds_create(api_call *c)
{
    return change(c, "CREATE_NOISE_THRESHOLD", insert_threshold, true);
}

err noise_thresholds_update(api_call *c)
{
    return change(c, "UPDATE_NOISE_THRESHOLD", update_threshold, true);
}

err noise_thresholds_delete(api_call *c)
{
    return change(c, "DELETE_NOISE_THRESHOLD", delete_threshold, false);
}
