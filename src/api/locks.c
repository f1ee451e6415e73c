/* locks/get, locks/list, locks/lock_door, locks/unlock_door: devices of
 * the lock types, and actions on them as asynchronous action attempts. */
#include <string.h>

#include "api/actions.h"
#include "api/devices.h"
#include "api/render.h"
#include "core/device_types.h"

err locks_get(api_call *c)
{
    err e = get_device_of(c, DEVICE_LOCK, "lock");
    if (!err_failed(e)) /* locks/get answers with "device" as well */
        json_object_set(c->out, "device", json_object_get(c->out, "lock"));
    return e;
}

err locks_list(api_call *c) { return list_devices_of(c, DEVICE_LOCK, "locks"); }

static err act(api_call *c, bool lock)
{
    const char *device_id = param_required_str(c->p, "device_id");
    bool sync = false;
    param_bool(c->p, "sync", &sync);
    err e = params_check(c->p);
    store_device d;
    if (err_failed(e) || err_failed(e = find_device_of(c, DEVICE_LOCK, device_id, NULL, &d)))
        return e;
    if (!(lock ? d.can_remotely_lock : d.can_remotely_unlock))
        return err_make(ERR_BAD_REQUEST, "action_not_supported",
                        lock ? "This lock cannot be locked remotely."
                             : "This lock cannot be unlocked remotely.");
    return action_start(c, &d, lock ? "LOCK_DOOR" : "UNLOCK_DOOR", NULL, sync, NULL);
}

err locks_lock_door(api_call *c) { return act(c, true); }
err locks_unlock_door(api_call *c) { return act(c, false); }
