/* The access-code scheduler (access_codes.h). */
#include "jobs/access_codes.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/json_text.h"
#include "core/timeutil.h"

enum { BATCH = 32, LEASE_MS = 10000 };

void access_codes_schedule(store_access_code *ac, int64_t now)
{
    bool later = ac->starts_at && ac->starts_at > now;
    ac->status = later ? "unset" : "setting";
    ac->due_at = later ? ac->starts_at : now;
}

typedef struct step {
    const char *id;
    const char *owner;
    int64_t now;
} step;

/* Records an event about the code, with its own fields (payload: a JSON
 * object, taken; or NULL). */
static err code_event(store *s, arena *a, const store_access_code *ac, const char *type,
                      json_t *payload)
{
    store_event ev = {.workspace_id = ac->workspace_id, .event_type = type,
                      .device_id = ac->device_id, .connected_account_id = ac->connected_account_id,
                      .access_code_id = ac->access_code_id,
                      .payload = payload ? json_text(a, payload) : NULL};
    return store_event_record(s, ev);
}

/* The device's errors, as a delay event carries them (with the code's and
 * the account's, which latchkey's sandbox locks do not have). */
static json_t *delay_payload(int64_t now)
{
    char at[ISO8601_LEN];
    time_format_iso8601(now, at);
    json_t *offline = json_pack("{s:s,s:s,s:b,s:s}", "error_code", "device_offline", "message",
                                "The device is offline.", "is_device_error", 1, "created_at", at);
    return json_pack("{s:[],s:[],s:[o],s:[],s:[],s:[]}", "connected_account_errors",
                     "connected_account_warnings", "device_errors", offline, "device_warnings",
                     "access_code_errors", "access_code_warnings");
}

/* The lock cannot be reached: try again later; the first time, say so. */
static err delayed(store *s, arena *a, store_access_code *ac, int64_t now, bool removing)
{
    ac->status = removing ? "removing" : "setting";
    ac->due_at = now + ACCESS_CODE_RETRY_MS;
    if (ac->delayed_since)
        return ERR_NONE;
    ac->delayed_since = now;
    return code_event(s, a, ac,
                      removing ? "access_code.delay_in_removing_from_device"
                               : "access_code.delay_in_setting_on_device",
                      delay_payload(now));
}

/* Takes the code off the lock (deleted: then the code is gone too). */
static err take_off(store *s, arena *a, store_access_code *ac, bool online, int64_t now,
                    bool deleted)
{
    err e = ERR_NONE;
    if (ac->on_device) {
        if (!online)
            return delayed(s, a, ac, now, true);
        ac->on_device = false;
        ac->delayed_since = 0;
        e = code_event(s, a, ac,
                       ac->is_managed ? "access_code.removed_from_device"
                                      : "access_code.unmanaged.removed",
                       NULL);
    }
    if (err_failed(e) || !deleted)
        return e;
    e = store_access_code_remove(s, ac->access_code_id);
    if (!err_failed(e) && ac->is_managed)
        e = code_event(s, a, ac, "access_code.deleted", json_pack("{s:s}", "code", ac->code));
    ac->access_code_id = NULL; /* nothing left to write */
    return e;
}

/* Puts the code on the lock, unless it is there as it is now. */
static err put_on(store *s, arena *a, store_access_code *ac, bool online, int64_t now)
{
    ac->due_at = ac->ends_at; /* 0 for an ongoing code: nothing more to do */
    if (ac->on_device && strcmp(ac->status, "set") == 0)
        return ERR_NONE;
    if (!online)
        return delayed(s, a, ac, now, false);
    ac->on_device = true;
    ac->status = "set";
    ac->delayed_since = 0;
    return code_event(s, a, ac, "access_code.set_on_device", json_pack("{s:s}", "code", ac->code));
}

/* One code's due work, in one transaction with its events; nothing when
 * another node has taken the code over. */
static err work(store *s, void *ctx)
{
    const step *st = ctx;
    arena a;
    arena_init(&a);
    store_access_code ac;
    store_device d;
    err e = store_access_code_get(s, &a, NULL, st->id, NULL, NULL, STORE_CODE_ANY, true, &ac);
    if (err_failed(e) || !ac.lease_owner || strcmp(ac.lease_owner, st->owner) != 0) {
        arena_free(&a);
        return store_not_found(e) ? ERR_NONE : e;
    }
    store_scope scope = {.workspace_id = ac.workspace_id};
    /* A device made unmanaged keeps its codes' schedule: the API no longer
     * shows them, but a code whose time is up still leaves the lock. */
    e = store_device_find(s, &a, &scope, STORE_DEVICE_ANY, ac.device_id, NULL, false, &d);
    int64_t now = st->now;
    bool ended = ac.ends_at && now >= ac.ends_at;
    if (!err_failed(e)) {
        if (ac.deleting || ended)
            e = take_off(s, &a, &ac, d.online, now, true);
        else if (!ac.is_managed || !ac.starts_at || now >= ac.starts_at)
            e = put_on(s, &a, &ac, d.online, now);
        else {
            /* Moved to start later: off the lock until then. */
            e = take_off(s, &a, &ac, d.online, now, false);
            if (!ac.on_device) {
                ac.status = "unset";
                ac.due_at = ac.starts_at;
            }
        }
    }
    if (!err_failed(e) && ac.access_code_id) {
        ac.lease_owner = NULL;
        ac.lease_expires_at = 0;
        e = store_access_code_write(s, &ac);
    }
    arena_free(&a);
    return e;
}

void access_codes_run(store *s, const char *owner, int64_t *next)
{
    arena a;
    arena_init(&a);
    store_access_code *due = NULL;
    size_t n = 0;
    int64_t now = time_now_ms();
    err e = store_access_code_claim(s, &a, owner, now, LEASE_MS, BATCH, &due, &n);
    for (size_t i = 0; !err_failed(e) && i < n; i++) {
        step st = {due[i].access_code_id, owner, now};
        err we = store_transaction(s, work, &st);
        if (err_failed(we)) /* tried again when the lease runs out */
            fprintf(stderr, "latchkey: access code %s: %s\n", st.id, we.message);
    }
    if (err_failed(e))
        fprintf(stderr, "latchkey: access codes: %s\n", e.message);
    *next = 0;
    if (err_failed(store_access_code_next_due(s, next)))
        *next = 0;
    arena_free(&a);
}
