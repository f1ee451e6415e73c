/* locks/get, locks/list, locks/lock_door, locks/unlock_door: devices of
 * the lock types, and actions on them as asynchronous action attempts. */
#include <string.h>

#include "api/devices.h"
#include "api/render.h"
#include "core/device_types.h"
#include "core/ids.h"
#include "jobs/action_worker.h"

enum { SYNC_TIMEOUT_MS = 30000 };

/* A device in scope that is a lock, or 404. */
static err find_lock(api_call *c, const char *device_id, const char *name, store_device *d)
{
    store_scope scope = api_scope(c, NULL);
    err e = store_device_get(c->srv->store, c->a, &scope, device_id, name, false, d);
    if (!err_failed(e) && device_type_category(d->device_type) != DEVICE_LOCK)
        /* the store's answer for a device out of scope */
        e = err_make(ERR_NOT_FOUND, "device_not_found", "Device not found.");
    return e;
}

err locks_get(api_call *c)
{
    const char *device_id, *name;
    param_either(c->p, "device_id", &device_id, "name", &name);
    err e = params_check(c->p);
    store_device d;
    if (err_failed(e) || err_failed(e = find_lock(c, device_id, name, &d)))
        return e;
    c->out = json_pack("{s:o,s:o}", "lock", render_device(&d), "device", render_device(&d));
    return ERR_NONE;
}

err locks_list(api_call *c)
{
    size_t n = device_types_count();
    const char **types = arena_alloc(c->a, n * sizeof *types);
    str_list locks = {types, 0};
    for (size_t i = 0; i < n; i++)
        if (device_type_category(device_type_at(i)) == DEVICE_LOCK)
            types[locks.count++] = device_type_at(i);
    err e = list_devices(c, "locks", &locks);
    if (!err_failed(e))
        json_object_set(c->out, "devices", json_object_get(c->out, "locks"));
    return e;
}

static err act(api_call *c, bool lock)
{
    const char *device_id = param_required_str(c->p, "device_id");
    bool sync = false;
    param_bool(c->p, "sync", &sync);
    err e = params_check(c->p);
    store_device d;
    if (err_failed(e) || err_failed(e = find_lock(c, device_id, NULL, &d)))
        return e;
    if (!(lock ? d.can_remotely_lock : d.can_remotely_unlock))
        return err_make(ERR_BAD_REQUEST, "action_not_supported",
                        lock ? "This lock cannot be locked remotely."
                             : "This lock cannot be unlocked remotely.");
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_action_attempt aa = {
        .action_attempt_id = id,
        .workspace_id = d.workspace_id,
        .device_id = d.device_id,
        .connected_account_id = d.connected_account_id,
        .action_type = lock ? "LOCK_DOOR" : "UNLOCK_DOOR",
        .status = "pending",
        .created_at = c->now,
        .due_at = c->now + c->srv->action_delay_ms,
    };
    if (err_failed(e = store_action_attempt_create(c->srv->store, &aa)))
        return e;
    action_worker_wake(c->srv->actions);
    if (sync) /* answered when the attempt is done (api_wait_answer) */
        c->wait = (api_wait){aa.action_attempt_id, aa.workspace_id, c->now + SYNC_TIMEOUT_MS};
    else
        c->out = json_pack("{s:o}", "action_attempt", render_action_attempt(&aa));
    return ERR_NONE;
}

err locks_lock_door(api_call *c) { return act(c, true); }
err locks_unlock_door(api_call *c) { return act(c, false); }
