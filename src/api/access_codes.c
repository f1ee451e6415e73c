/* The access_codes routes: PIN codes on locks, scoped like their devices (a client
 * session sees and changes only the codes on its own devices). A change is
 * recorded at once and the access-code scheduler (jobs/access_codes.h) puts
 * it onto the lock, or takes it off, asynchronously; the code's status
 * (unset, setting, set, removing), warnings and events tell how that goes.
 * The calls that Seam answers with an action attempt record one that is
 * done when the change is recorded. Unmanaged codes are codes found on a
 * lock (in the sandbox: made by access_codes/simulate/create_unmanaged_access_code). */
#include <string.h>

#include "api/devices.h"
#include "api/listing.h"
#include "api/render.h"
#include "core/code_rules.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "jobs/access_codes.h"
#include "jobs/action_worker.h"

enum { SPARE_CODES = 2, GENERATE_TRIES = 20, MAX_NAME = 255 };

/* ---- reading ---- */

/* The lock in scope, and its code rules; 404 when it is not a lock the
 * caller holds, 400 when it takes no codes. */
static err code_device(api_call *c, const char *device_id, store_device *d, code_rules *r)
{
    err e = find_device_of(c, DEVICE_LOCK, device_id, NULL, d);
    if (err_failed(e))
        return e;
    *r = code_rules_of(d->extra_properties);
    if (!r->supported)
        return err_make(ERR_BAD_REQUEST, "device_does_not_support_access_codes",
                        "The device does not support access codes.");
    return ERR_NONE;
}

/* The code in scope (by id, or by device and code), with its device. */
static err find_code(api_call *c, store_code_kind kind, const char *id, const char *device_id,
                     const char *code, bool for_update, store_access_code *ac, store_device *d)
{
    store_scope scope = api_scope(c, NULL);
    err e = store_access_code_get(c->srv->store, c->a, &scope, id, device_id, code, kind,
                                  for_update, ac);
    if (!err_failed(e))
        e = store_device_get(c->srv->store, c->a, &scope, ac->device_id, NULL, false, d);
    if (store_not_found(e))
        e = err_make(ERR_NOT_FOUND, "access_code_not_found", "Access code not found.");
    return e;
}

/* access_code_id, or device_id and code. */
static void read_code_key(api_call *c, const char **id, const char **device_id, const char **code)
{
    param_nonempty_str(c->p, "access_code_id", id);
    param_nonempty_str(c->p, "device_id", device_id);
    param_nonempty_str(c->p, "code", code);
    if (!*id && !(*device_id && *code))
        param_reject(c->p, "access_code_id", "Required: access_code_id, or device_id and code");
}

static err get_code(api_call *c, store_code_kind kind)
{
    const char *id = NULL, *device_id = NULL, *code = NULL;
    read_code_key(c, &id, &device_id, &code);
    err e = params_check(c->p);
    store_access_code ac;
    store_device d;
    if (!err_failed(e))
        e = find_code(c, kind, id, device_id, id ? NULL : code, false, &ac, &d);
    if (!err_failed(e))
        c->out = json_pack("{s:o}", "access_code", render_access_code(&ac, &d));
    return e;
}

err access_codes_get(api_call *c) { return get_code(c, STORE_CODE_MANAGED); }
err access_codes_unmanaged_get(api_call *c) { return get_code(c, STORE_CODE_UNMANAGED); }

/* Renders a code with its device, read once per device of the page. */
typedef struct code_page {
    store_device *devices;
    size_t count;
} code_page;

static json_t *render_code_row(api_call *c, const void *row)
{
    const store_access_code *ac = row;
    code_page *pg = c->render_ctx;
    for (size_t i = 0; i < pg->count; i++)
        if (strcmp(pg->devices[i].device_id, ac->device_id) == 0)
            return render_access_code(ac, &pg->devices[i]);
    store_scope scope = {.workspace_id = ac->workspace_id};
    store_device d;
    if (err_failed(store_device_get(c->srv->store, c->a, &scope, ac->device_id, NULL, false, &d)))
        return NULL;
    store_device *grown = arena_alloc(c->a, (pg->count + 1) * sizeof *grown);
    if (pg->count)
        memcpy(grown, pg->devices, pg->count * sizeof *grown);
    grown[pg->count] = d;
    pg->devices = grown;
    return render_access_code(ac, &grown[pg->count++]);
}

/* Filters on what latchkey does not have: accepted, matching nothing. */
static const char *const ABSENT_FILTERS[] = {"access_grant_id", "access_grant_key",
                                             "access_method_id", NULL};

static err list_codes(api_call *c, bool managed)
{
    listing l;
    listing_init(&l, c);
    store_access_code_filter f = {.managed = managed};
    const char *uik = NULL;
    str_list *ids = arena_zalloc(c->a, sizeof *ids);
    if (managed && param_str_list(c->p, "access_code_ids", ids)) {
        f.access_code_ids = ids;
        page_filters_add_list(&l.filters, "access_code_ids", ids);
    }
    const struct {
        const char *key;
        const char **value;
    } singles[] = {{"device_id", &f.device_id},
                   {"user_identifier_key", &uik},
                   {"search", &f.search},
                   {"customer_key", managed ? &f.customer_key : NULL}};
    for (size_t i = 0; i < sizeof singles / sizeof *singles; i++)
        if (singles[i].value && param_nonempty_str(c->p, singles[i].key, singles[i].value))
            page_filters_add(&l.filters, singles[i].key, *singles[i].value);
    if (!managed && !f.device_id)
        param_reject(c->p, "device_id", "Required");
    f.none = managed && param_names_absent_resource(c->p, ABSENT_FILTERS);
    store_scope scope = api_scope(c, uik);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    store_device d;
    code_rules r;
    /* A device out of scope is not found, rather than an empty list. */
    if (!err_failed(e) && f.device_id && !f.none)
        e = code_device(c, f.device_id, &d, &r);
    store_access_code *rows = NULL;
    size_t n = 0;
    if (!err_failed(e))
        e = store_access_code_list(c->srv->store, c->a, &scope, &f, &sp, &rows, &n);
    if (err_failed(e))
        return e;
    code_page pg = {0};
    c->render_ctx = &pg;
    return listing_respond(&l, c, "access_codes", rows, n, sizeof *rows, render_code_row);
}

err access_codes_list(api_call *c) { return list_codes(c, true); }
err access_codes_unmanaged_list(api_call *c) { return list_codes(c, false); }

err access_codes_generate_code(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    err e = params_check(c->p);
    store_device d;
    code_rules r;
    if (err_failed(e) || err_failed(e = code_device(c, device_id, &d, &r)))
        return e;
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    /* A code the device would take, not stored: nothing is created. */
    store_access_code ac = {.access_code_id = id, .workspace_id = d.workspace_id,
                            .device_id = d.device_id, .code = code_rules_generate(&r, c->a, 0),
                            .is_managed = true, .status = "unset", .created_at = c->now};
    c->out = json_pack("{s:o}", "generated_code", render_access_code(&ac, &d));
    return ERR_NONE;
}

/* ---- what create and update are given ---- */

typedef struct code_input {
    const char *name, *code, *common_code_key, *type;
    int64_t starts_at, ends_at;
    bool has_name, has_code, has_times;
    bool external, one_time, offline, backup_pool, attempt_for_offline;
    bool has_external, has_one_time, has_backup_pool;
    int64_t preferred_length;
} code_input;

/* is_external_modification_allowed, or its older name
 * allow_external_modification. */
static bool read_external(api_call *c, bool *out)
{
    bool given = param_bool(c->p, "is_external_modification_allowed", out);
    bool older = param_bool(c->p, "allow_external_modification", out);
    return given || older;
}

/* The parameters create, create_multiple and update share. */
static void read_code_input(api_call *c, code_input *in)
{
    in->attempt_for_offline = true;
    in->has_name = param_long_str(c->p, "name", MAX_NAME, &in->name);
    if (param_null(c->p, "name"))
        in->has_name = true;
    in->has_code = param_nonempty_str(c->p, "code", &in->code);
    bool starts = param_time(c->p, "starts_at", &in->starts_at);
    bool ends = param_time(c->p, "ends_at", &in->ends_at);
    in->has_times = starts || ends;
    if (starts && !ends)
        param_reject(c->p, "ends_at", "Required with starts_at");
    else if (ends && in->starts_at && in->ends_at <= in->starts_at)
        param_reject(c->p, "ends_at", "Must be after starts_at");
    else if (ends && in->ends_at <= c->now)
        param_reject(c->p, "ends_at", "Must be in the future");
    in->has_external = read_external(c, &in->external);
    in->has_one_time = param_bool(c->p, "is_one_time_use", &in->one_time);
    param_bool(c->p, "is_offline_access_code", &in->offline);
    bool offline_too = false;
    param_bool(c->p, "use_offline_access_code", &offline_too);
    if (in->offline || offline_too)
        param_reject(c->p, in->offline ? "is_offline_access_code" : "use_offline_access_code",
                     "The device does not support offline access codes");
    in->has_backup_pool = param_bool(c->p, "use_backup_access_code_pool", &in->backup_pool);
    param_bool(c->p, "attempt_for_offline_device", &in->attempt_for_offline);
    param_int(c->p, "preferred_code_length", 1, 16, &in->preferred_length);
    /* latchkey keeps time to the millisecond on every lock it drives, so
     * nothing is rounded; it schedules on the server (Seam's fallback). */
    const char *rounding = NULL;
    if (param_nonempty_str(c->p, "max_time_rounding", &rounding) && strcmp(rounding, "1hour") &&
        strcmp(rounding, "1day") && strcmp(rounding, "1h") && strcmp(rounding, "1d"))
        param_reject(c->p, "max_time_rounding", "Expected 1hour, 1day, 1h or 1d");
    bool ignored;
    param_bool(c->p, "prefer_native_scheduling", &ignored);
    param_bool(c->p, "sync", &ignored);
}

/* Whether the code, name and settings suit the device; the first reason
 * why not, as the error. */
static err check_input(const code_input *in, const code_rules *r, const store_device *d,
                       const store_access_code *ac)
{
    const char *why = ac->code ? code_rules_check_code(r, ac->code) : NULL;
    if (!why)
        why = code_rules_check_name(r, ac->name);
    if (why)
        return err_make(ERR_BAD_REQUEST, "invalid_input", why);
    if (!d->online && !in->attempt_for_offline)
        return err_make(ERR_BAD_REQUEST, "device_offline",
                        "The device is offline (attempt_for_offline_device is false).");
    if (ac->use_backup_pool && !r->backup_pool)
        return err_make(ERR_BAD_REQUEST, "invalid_input",
                        "The device does not support a backup access code pool.");
    if (ac->use_backup_pool && !ac->ends_at)
        return err_make(ERR_BAD_REQUEST, "invalid_input",
                        "Only time-bound codes can use the backup access code pool.");
    return ERR_NONE;
}

/* ---- writing ---- */

static err code_event(store *s, const store_access_code *ac, const char *type)
{
    return store_event_record(s, (store_event){.workspace_id = ac->workspace_id,
                                               .event_type = type, .device_id = ac->device_id,
                                               .connected_account_id = ac->connected_account_id,
                                               .access_code_id = ac->access_code_id});
}

/* A new managed code on the device, from what the request gave. */
static store_access_code new_code(api_call *c, const code_input *in, const store_device *d)
{
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_access_code ac = {
        .access_code_id = id, .workspace_id = d->workspace_id, .device_id = d->device_id,
        .connected_account_id = d->connected_account_id, .name = in->name, .code = in->code,
        .common_code_key = in->common_code_key,
        .starts_at = in->ends_at ? (in->starts_at ? in->starts_at : c->now) : 0,
        .ends_at = in->ends_at, .is_managed = true,
        .is_external_modification_allowed = in->external, .is_one_time_use = in->one_time,
        .use_backup_pool = in->backup_pool, .created_at = c->now};
    access_codes_schedule(&ac, c->now);
    return ac;
}

/* Keeps SPARE_CODES unused backup codes on the device (in the caller's
 * transaction). */
static err fill_pool(store *s, arena *a, const store_device *d, const code_rules *r, int64_t now)
{
    store_scope scope = {.workspace_id = d->workspace_id};
    store_access_code_filter f = {.device_id = d->device_id, .managed = true, .backup = true};
    store_access_code *rows = NULL;
    size_t n = 0;
    err e = store_access_code_list(s, a, &scope, &f, &(store_page){0, 1000}, &rows, &n);
    size_t spare = 0;
    for (size_t i = 0; i < n; i++)
        spare += rows[i].is_backup && !rows[i].ends_at && !rows[i].deleting;
    for (int tries = 0; !err_failed(e) && spare < SPARE_CODES && tries < GENERATE_TRIES; tries++) {
        char *id = arena_alloc(a, UUID_STR_LEN);
        uuid_v4(id);
        store_access_code ac = {.access_code_id = id, .workspace_id = d->workspace_id,
                                .device_id = d->device_id,
                                .connected_account_id = d->connected_account_id,
                                .name = "Backup access code", .code = code_rules_generate(r, a, 0),
                                .is_managed = true, .is_backup = true, .created_at = now};
        access_codes_schedule(&ac, now);
        e = store_access_code_create(s, &ac);
        if (e.kind == ERR_CONFLICT) { /* that code is taken: another one */
            e = ERR_NONE;
            continue;
        }
        spare++;
    }
    return e;
}

typedef struct creation {
    api_call *c;
    const code_input *in;
    const store_device *d;
    const code_rules *r;
    store_access_code ac; /* out */
} creation;

/* Inserts the code with its event (a code generated when none was given,
 * again on the rare duplicate), within the device's limit. */
static err create_code(store *s, void *ctx)
{
    creation *cr = ctx;
    int64_t active = 0, on_device = 0;
    err e = store_access_code_count(s, cr->d->device_id, &active, &on_device);
    if (!err_failed(e) && cr->r->max_active && active >= cr->r->max_active)
        return err_make(ERR_BAD_REQUEST, "no_space_for_access_code_on_device",
                        "The device holds as many access codes as it supports"
                        " (properties.max_active_codes_supported).");
    for (int tries = 0; !err_failed(e); tries++) {
        cr->ac = new_code(cr->c, cr->in, cr->d);
        if (!cr->ac.code)
            cr->ac.code = code_rules_generate(cr->r, cr->c->a, (int)cr->in->preferred_length);
        e = store_access_code_create(s, &cr->ac);
        if (e.kind != ERR_CONFLICT || cr->in->code || tries >= GENERATE_TRIES)
            break;
    }
    if (!err_failed(e))
        e = code_event(s, &cr->ac, "access_code.created");
    if (!err_failed(e) && cr->ac.use_backup_pool)
        e = fill_pool(s, cr->c->a, cr->d, cr->r, cr->c->now);
    return e;
}

typedef struct batch {
    api_call *c;
    size_t n;
    const code_input *in; /* in[i] for d[i], with its rules r[i] */
    const store_device *d;
    const code_rules *r;
    store_access_code *out;
} batch;

static err create_batch(store *s, void *ctx)
{
    batch *b = ctx;
    err e = ERR_NONE;
    for (size_t i = 0; i < b->n && !err_failed(e); i++) {
        creation cr = {b->c, &b->in[i], &b->d[i], &b->r[i], {0}};
        e = create_code(s, &cr);
        b->out[i] = cr.ac;
    }
    return e;
}

/* Creates a code on each of n devices, all of them or (on any error) none,
 * and wakes the scheduler. */
static err create_codes(api_call *c, size_t n, const code_input *in, const store_device *d,
                        const code_rules *r, store_access_code *out)
{
    err e = ERR_NONE;
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        store_access_code probe = new_code(c, &in[i], &d[i]);
        e = check_input(&in[i], &r[i], &d[i], &probe);
    }
    batch b = {c, n, in, d, r, out};
    if (!err_failed(e))
        e = store_transaction(c->srv->store, create_batch, &b);
    if (!err_failed(e))
        action_worker_wake(c->srv->actions);
    return e;
}

/* An action attempt of the change, done when it is recorded. */
static json_t *recorded_attempt(api_call *c, const store_access_code *ac, const char *type)
{
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_action_attempt aa = {.action_attempt_id = id, .workspace_id = ac->workspace_id,
                               .device_id = ac->device_id,
                               .connected_account_id = ac->connected_account_id,
                               .action_type = type, .status = "success", .created_at = c->now,
                               .due_at = c->now, .completed_at = c->now};
    err e = store_action_attempt_create(c->srv->store, &aa);
    return err_failed(e) ? NULL : render_action_attempt(&aa);
}

/* Answers {action_attempt} for a change of ac. */
static err answer_attempt(api_call *c, const store_access_code *ac, const char *type)
{
    json_t *aa = recorded_attempt(c, ac, type);
    if (!aa)
        return err_make(ERR_UNAVAILABLE, "unavailable", "The change was recorded; its action"
                                                        " attempt could not be.");
    c->out = json_pack("{s:o}", "action_attempt", aa);
    return ERR_NONE;
}

err access_codes_create(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    code_input in = {0};
    read_code_input(c, &in);
    param_nonempty_str(c->p, "common_code_key", &in.common_code_key);
    err e = params_check(c->p);
    store_device d;
    code_rules r;
    store_access_code ac;
    if (!err_failed(e))
        e = code_device(c, device_id, &d, &r);
    if (!err_failed(e))
        e = create_codes(c, 1, &in, &d, &r, &ac);
    if (!err_failed(e))
        e = answer_attempt(c, &ac, "CREATE_ACCESS_CODE");
    if (!err_failed(e))
        json_object_set_new(c->out, "access_code", render_access_code(&ac, &d));
    return e;
}

/* One code (one PIN) on several locks, linked by a common_code_key, all
 * created or none. A lock that cannot take the shared code gets a random
 * one (behavior_when_code_cannot_be_shared: create_random_code) or the call
 * fails (throw, the default). */
err access_codes_create_multiple(api_call *c)
{
    str_list ids;
    if (!param_str_list(c->p, "device_ids", &ids))
        param_reject(c->p, "device_ids", "Required");
    else if (ids.count == 0 || ids.count > 100)
        param_reject(c->p, "device_ids", "Give 1 to 100 devices");
    const char *behavior = "throw";
    if (param_nonempty_str(c->p, "behavior_when_code_cannot_be_shared", &behavior) &&
        strcmp(behavior, "throw") && strcmp(behavior, "create_random_code"))
        param_reject(c->p, "behavior_when_code_cannot_be_shared",
                     "Expected throw or create_random_code");
    code_input in = {0};
    read_code_input(c, &in);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_device *devices = arena_alloc(c->a, ids.count * sizeof *devices);
    code_rules *rules = arena_alloc(c->a, ids.count * sizeof *rules);
    for (size_t i = 0; i < ids.count && !err_failed(e); i++)
        e = code_device(c, ids.items[i], &devices[i], &rules[i]);
    if (err_failed(e))
        return e;
    /* The shared code: the one given, or one every lock takes. */
    const char *shared = in.code;
    for (int tries = 0; !shared && tries < GENERATE_TRIES; tries++) {
        const char *candidate = code_rules_generate(&rules[0], c->a, (int)in.preferred_length);
        bool fits = true;
        for (size_t i = 1; i < ids.count && fits; i++)
            fits = !code_rules_check_code(&rules[i], candidate);
        if (fits)
            shared = candidate;
    }
    bool random_ok = strcmp(behavior, "create_random_code") == 0;
    for (size_t i = 0; i < ids.count; i++)
        if ((!shared || code_rules_check_code(&rules[i], shared)) && !random_ok)
            return err_make(ERR_BAD_REQUEST, "invalid_input",
                            "The devices cannot share one code"
                            " (behavior_when_code_cannot_be_shared: create_random_code allows it).");
    char *key = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(key);
    in.common_code_key = key;
    code_input *inputs = arena_alloc(c->a, ids.count * sizeof *inputs);
    store_access_code *codes = arena_alloc(c->a, ids.count * sizeof *codes);
    for (size_t i = 0; i < ids.count; i++) {
        inputs[i] = in;
        inputs[i].code = shared && !code_rules_check_code(&rules[i], shared) ? shared : NULL;
    }
    e = create_codes(c, ids.count, inputs, devices, rules, codes);
    if (err_failed(e))
        return e;
    json_t *out = json_array();
    for (size_t i = 0; i < ids.count; i++)
        json_array_append_new(out, render_access_code(&codes[i], &devices[i]));
    c->out = json_pack("{s:o}", "access_codes", out);
    return ERR_NONE;
}

typedef struct code_change {
    api_call *c;
    const char *id;
    store_code_kind kind;
    const code_input *in;
    const char *device_id; /* must be the code's when given */
    const char *type;      /* ongoing, time_bound, or NULL */
    int managed;           /* update's is_managed: -1 not given */
    bool delete;
    bool convert;          /* unmanaged -> managed */
    store_access_code ac;  /* out: the code as written */
} code_change;

/* Reads the code for update, applies the change, and schedules the work
 * the lock needs, with the change's event. */
static err change_code(store *s, void *ctx)
{
    code_change *ch = ctx;
    api_call *c = ch->c;
    store_access_code *ac = &ch->ac;
    store_device d;
    err e = find_code(c, ch->kind, ch->id, NULL, NULL, true, ac, &d);
    if (!err_failed(e) && ch->device_id && strcmp(ch->device_id, ac->device_id) != 0)
        e = err_make(ERR_NOT_FOUND, "access_code_not_found", "Access code not found.");
    if (err_failed(e))
        return e;
    const code_input *in = ch->in;
    const char *event = "access_code.changed";
    if (ch->delete) {
        ac->deleting = true;
        ac->status = ac->on_device ? "removing" : ac->status;
        ac->due_at = c->now;
        return store_access_code_write(s, ac);
    }
    if (ch->convert || ch->managed == 1) {
        ac->is_managed = true;
        event = "access_code.unmanaged.converted_to_managed";
    } else if (ch->managed == 0 && ac->is_managed) {
        ac->is_managed = false; /* stays on the lock as it is, no longer latchkey's */
        ac->starts_at = ac->ends_at = 0;
        ac->status = ac->on_device ? "set" : ac->status;
    }
    if (in) {
        bool reprogram = false;
        if (in->has_name)
            ac->name = in->name;
        if (in->has_code && strcmp(in->code, ac->code) != 0) {
            ac->code = in->code;
            reprogram = true;
        }
        if (in->has_times || (ch->type && strcmp(ch->type, "ongoing") == 0)) {
            ac->starts_at = in->ends_at ? (in->starts_at ? in->starts_at : c->now) : 0;
            ac->ends_at = in->ends_at;
            reprogram = true;
        }
        if (in->has_external)
            ac->is_external_modification_allowed = in->external;
        if (in->has_one_time)
            ac->is_one_time_use = in->one_time;
        if (in->has_backup_pool)
            ac->use_backup_pool = in->backup_pool;
        code_rules r = code_rules_of(d.extra_properties);
        e = check_input(in, &r, &d, ac);
        if (!err_failed(e) && ac->use_backup_pool)
            e = fill_pool(s, c->a, &d, &r, c->now);
        if (!err_failed(e) && reprogram && ac->is_managed) {
            bool on = ac->on_device;
            access_codes_schedule(ac, c->now);
            /* Still on the lock as it was until the scheduler acts. */
            ac->on_device = on;
            if (on && strcmp(ac->status, "unset") == 0)
                ac->status = "removing";
            ac->due_at = c->now;
        }
    }
    if (!err_failed(e))
        e = store_access_code_write(s, ac);
    if (!err_failed(e))
        e = code_event(s, ac, event);
    return e;
}

static err run_change(api_call *c, code_change *ch)
{
    err e = store_transaction(c->srv->store, change_code, ch);
    if (!err_failed(e))
        action_worker_wake(c->srv->actions);
    return e;
}

err access_codes_update(api_call *c)
{
    code_change ch = {.c = c, .kind = STORE_CODE_MANAGED, .managed = -1};
    ch.id = param_required_str(c->p, "access_code_id");
    param_nonempty_str(c->p, "device_id", &ch.device_id);
    code_input in = {0};
    read_code_input(c, &in);
    ch.in = &in;
    if (param_nonempty_str(c->p, "type", &ch.type)) {
        if (strcmp(ch.type, "ongoing") && strcmp(ch.type, "time_bound"))
            param_reject(c->p, "type", "Expected ongoing or time_bound");
        else if (strcmp(ch.type, "time_bound") == 0 && !in.ends_at)
            param_reject(c->p, "ends_at", "Required for a time_bound code");
        else if (strcmp(ch.type, "ongoing") == 0 && in.has_times)
            param_reject(c->p, "type", "An ongoing code has no starts_at or ends_at");
    }
    bool managed;
    if (param_bool(c->p, "is_managed", &managed))
        ch.managed = managed;
    err e = params_check(c->p);
    if (!err_failed(e))
        e = run_change(c, &ch);
    return err_failed(e) ? e : answer_attempt(c, &ch.ac, "UPDATE_ACCESS_CODE");
}

typedef struct group_change {
    api_call *c;
    const char *key;
    const code_input *in;
} group_change;

/* Every code of the group within scope gets the new name and time frame. */
static err change_group(store *s, void *ctx)
{
    group_change *g = ctx;
    store_scope scope = api_scope(g->c, NULL);
    store_access_code_filter f = {.common_code_key = g->key, .managed = true};
    store_access_code *rows = NULL;
    size_t n = 0;
    err e = store_access_code_list(s, g->c->a, &scope, &f, &(store_page){0, 1000}, &rows, &n);
    if (!err_failed(e) && n == 0)
        e = err_make(ERR_NOT_FOUND, "access_code_not_found",
                     "No access code has this common_code_key.");
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        code_change ch = {.c = g->c, .id = rows[i].access_code_id, .kind = STORE_CODE_MANAGED,
                          .in = g->in, .managed = -1};
        e = change_code(s, &ch);
    }
    return e;
}

err access_codes_update_multiple(api_call *c)
{
    group_change g = {.c = c, .key = param_required_str(c->p, "common_code_key")};
    code_input in = {.attempt_for_offline = true};
    in.has_name = param_long_str(c->p, "name", MAX_NAME, &in.name);
    bool starts = param_time(c->p, "starts_at", &in.starts_at);
    bool ends = param_time(c->p, "ends_at", &in.ends_at);
    in.has_times = starts || ends;
    if (starts && !ends)
        param_reject(c->p, "ends_at", "Required with starts_at");
    else if (ends && (in.ends_at <= c->now || (in.starts_at && in.ends_at <= in.starts_at)))
        param_reject(c->p, "ends_at", "Must be in the future and after starts_at");
    g.in = &in;
    err e = params_check(c->p);
    if (!err_failed(e))
        e = store_transaction(c->srv->store, change_group, &g);
    if (!err_failed(e)) {
        action_worker_wake(c->srv->actions);
        c->out = json_object();
    }
    return e;
}

static err delete_code(api_call *c, store_code_kind kind)
{
    code_change ch = {.c = c, .kind = kind, .managed = -1, .delete = true};
    ch.id = param_required_str(c->p, "access_code_id");
    if (kind == STORE_CODE_MANAGED)
        param_nonempty_str(c->p, "device_id", &ch.device_id);
    bool ignored;
    param_bool(c->p, "sync", &ignored);
    err e = params_check(c->p);
    if (!err_failed(e))
        e = run_change(c, &ch);
    return err_failed(e) ? e : answer_attempt(c, &ch.ac, "DELETE_ACCESS_CODE");
}

err access_codes_delete(api_call *c) { return delete_code(c, STORE_CODE_MANAGED); }
err access_codes_unmanaged_delete(api_call *c) { return delete_code(c, STORE_CODE_UNMANAGED); }

static err convert(api_call *c, bool from_update)
{
    code_change ch = {.c = c, .kind = STORE_CODE_UNMANAGED, .managed = -1, .convert = true};
    ch.id = param_required_str(c->p, "access_code_id");
    code_input in = {0};
    in.has_external = read_external(c, &in.external);
    in.attempt_for_offline = true;
    bool managed = true, ignored;
    if (from_update && param_bool(c->p, "is_managed", &managed) && !managed)
        param_reject(c->p, "is_managed", "An unmanaged code can only become managed");
    else if (from_update && !param_present(c->p, "is_managed"))
        param_reject(c->p, "is_managed", "Required");
    param_bool(c->p, "force", &ignored);
    param_bool(c->p, "sync", &ignored);
    ch.in = &in;
    err e = params_check(c->p);
    if (!err_failed(e))
        e = run_change(c, &ch);
    if (!err_failed(e))
        c->out = json_object();
    return e;
}

err access_codes_unmanaged_convert_to_managed(api_call *c) { return convert(c, false); }
err access_codes_unmanaged_update(api_call *c) { return convert(c, true); }

typedef struct pull {
    api_call *c;
    const char *id;
    store_access_code ac, backup; /* out */
    store_device d;
} pull;

/* Gives the code one of its device's spare codes for its time frame (the
 * same one when asked again), and puts a new spare in its place. */
static err pull_backup(store *s, void *ctx)
{
    pull *p = ctx;
    api_call *c = p->c;
    err e = find_code(c, STORE_CODE_MANAGED, p->id, NULL, NULL, true, &p->ac, &p->d);
    if (err_failed(e))
        return e;
    if (!p->ac.use_backup_pool || !p->ac.ends_at)
        return err_make(ERR_BAD_REQUEST, "invalid_input",
                        "The code does not use the backup access code pool.");
    store_scope scope = {.workspace_id = p->ac.workspace_id};
    if (p->ac.pulled_backup_access_code_id)
        return store_access_code_get(s, c->a, &scope, p->ac.pulled_backup_access_code_id, NULL,
                                     NULL, STORE_CODE_MANAGED, false, &p->backup);
    store_access_code_filter f = {.device_id = p->ac.device_id, .managed = true, .backup = true};
    store_access_code *rows = NULL;
    size_t n = 0;
    e = store_access_code_list(s, c->a, &scope, &f, &(store_page){0, 1000}, &rows, &n);
    const store_access_code *spare = NULL;
    for (size_t i = 0; i < n && !spare; i++)
        if (rows[i].is_backup && !rows[i].ends_at && !rows[i].deleting && rows[i].on_device)
            spare = &rows[i];
    if (!err_failed(e) && !spare)
        return err_make(ERR_BAD_REQUEST, "backup_access_code_not_found",
                        "No backup access code is on the device yet; try again shortly.");
    if (err_failed(e))
        return e;
    p->backup = *spare;
    p->backup.name = arena_sprintf(c->a, "Backup of %s", p->ac.name ? p->ac.name : p->ac.code);
    p->backup.starts_at = p->ac.starts_at;
    p->backup.ends_at = p->ac.ends_at;
    p->backup.due_at = p->ac.ends_at; /* removed when the code ends */
    p->ac.pulled_backup_access_code_id = p->backup.access_code_id;
    e = store_access_code_write(s, &p->backup);
    if (!err_failed(e))
        e = store_access_code_write(s, &p->ac);
    if (!err_failed(e))
        e = store_event_record(
            s, (store_event){.workspace_id = p->ac.workspace_id,
                             .event_type = "access_code.backup_access_code_pulled",
                             .device_id = p->ac.device_id,
                             .connected_account_id = p->ac.connected_account_id,
                             .access_code_id = p->ac.access_code_id,
                             .payload = arena_sprintf(c->a, "{\"backup_access_code_id\":\"%s\"}",
                                                      p->backup.access_code_id)});
    code_rules r = code_rules_of(p->d.extra_properties);
    if (!err_failed(e))
        e = fill_pool(s, c->a, &p->d, &r, c->now);
    return e;
}

err access_codes_pull_backup_access_code(api_call *c)
{
    pull p = {.c = c, .id = param_required_str(c->p, "access_code_id")};
    err e = params_check(c->p);
    if (!err_failed(e))
        e = store_transaction(c->srv->store, pull_backup, &p);
    if (err_failed(e))
        return e;
    action_worker_wake(c->srv->actions);
    c->out = json_pack("{s:o,s:o}", "access_code", render_access_code(&p.ac, &p.d),
                       "backup_access_code", render_access_code(&p.backup, &p.d));
    return ERR_NONE;
}

typedef struct pool_switch {
    api_call *c;
    const char *device_id;
    bool enabled;
} pool_switch;

/* Turns the device's backup pool on or off; off, its spare codes (not yet
 * handed out) are removed from the lock. */
static err switch_pool(store *s, void *ctx)
{
    pool_switch *p = ctx;
    api_call *c = p->c;
    store_scope scope = api_scope(c, NULL);
    store_device d;
    err e = store_device_get(s, c->a, &scope, p->device_id, NULL, true, &d);
    if (err_failed(e))
        return e;
    if (!code_rules_of(d.extra_properties).backup_pool_supported)
        return err_make(ERR_BAD_REQUEST, "invalid_input",
                        "The device does not support a backup access code pool.");
    json_t *props = render_stored_object(d.extra_properties);
    json_object_set_new(props, "backup_access_code_pool_enabled", json_boolean(p->enabled));
    e = store_device_set_properties(s, &scope, d.device_id, json_text(c->a, props),
                                    d.climate_moved_at);
    store_access_code_filter f = {.device_id = d.device_id, .managed = true, .backup = true};
    store_access_code *rows = NULL;
    size_t n = 0;
    if (!err_failed(e) && !p->enabled)
        e = store_access_code_list(s, c->a, &scope, &f, &(store_page){0, 1000}, &rows, &n);
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        if (!rows[i].is_backup || rows[i].ends_at || rows[i].deleting)
            continue;
        rows[i].deleting = true;
        rows[i].due_at = c->now;
        e = store_access_code_write(s, &rows[i]);
    }
    return e;
}

err access_codes_switch_backup_pool(api_call *c, const char *device_id, bool enabled)
{
    pool_switch p = {c, device_id, enabled};
    err e = store_transaction(c->srv->store, switch_pool, &p);
    if (!err_failed(e))
        action_worker_wake(c->srv->actions);
    return e;
}

/* ---- sandbox ---- */

/* A code someone set at the lock itself, outside latchkey: on the lock at
 * once, and unmanaged. Sandbox workspaces only. */
err access_codes_simulate_create_unmanaged_access_code(api_call *c)
{
    const char *device_id = param_required_str(c->p, "device_id");
    const char *name = param_required_str(c->p, "name");
    const char *code = param_required_str(c->p, "code");
    err e = params_check(c->p);
    store_device d;
    code_rules r;
    if (!err_failed(e))
        e = api_sandbox_only(c);
    if (!err_failed(e))
        e = code_device(c, device_id, &d, &r);
    const char *why = err_failed(e) ? NULL : code_rules_check_code(&r, code);
    if (why)
        e = err_make(ERR_BAD_REQUEST, "invalid_input", why);
    if (err_failed(e))
        return e;
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_access_code ac = {.access_code_id = id, .workspace_id = d.workspace_id,
                            .device_id = d.device_id,
                            .connected_account_id = d.connected_account_id, .name = name,
                            .code = code, .status = "set", .on_device = true,
                            .created_at = c->now};
    e = store_access_code_create(c->srv->store, &ac);
    if (!err_failed(e))
        e = code_event(c->srv->store, &ac, "access_code.unmanaged.created");
    if (!err_failed(e))
        c->out = json_pack("{s:o}", "access_code", render_access_code(&ac, &d));
    return e;
}
