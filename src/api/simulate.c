/* Sandbox simulations: devices/simulate/connect and disconnect take a
 * sandbox device online or offline, the way a real lock drops off its
 * network and comes back (its access codes wait for it meanwhile). */
#include "api/handler.h"
#include "jobs/action_worker.h"

err api_sandbox_only(api_call *c)
{
    store_workspace w;
    err e = store_workspace_get(c->srv->store, c->a, c->auth->workspace_id, &w);
    if (!err_failed(e) && !w.is_sandbox)
        e = err_make(ERR_FORBIDDEN, "not_a_sandbox_workspace",
                     "Simulations run in sandbox workspaces only.");
    return e;
}

typedef struct reach {
    api_call *c;
    const char *device_id;
    bool online;
} reach;

static err set_reach(store *s, void *ctx)
{
    reach *r = ctx;
    api_call *c = r->c;
    store_scope scope = api_scope(c, NULL);
    store_device d;
    store_connected_account ca;
    err e = store_device_get(s, c->a, &scope, r->device_id, NULL, true, &d);
    if (!err_failed(e))
        e = store_connected_account_get(s, c->a, &scope, d.connected_account_id, NULL, false, &ca);
    if (err_failed(e))
        return e;
    if (ca.settings_sealed) /* a real device: its own network decides */
        return err_make(ERR_BAD_REQUEST, "action_not_supported",
                        "Only sandbox devices can be connected or disconnected by simulation.");
    if (d.online == r->online)
        return ERR_NONE;
    d.online = r->online;
    d.offline_at = r->online ? 0 : c->now;
    e = store_device_set_state(s, &d);
    if (!err_failed(e))
        e = store_event_record(s, (store_event){.workspace_id = d.workspace_id,
                                                .event_type = r->online ? "device.connected"
                                                                        : "device.disconnected",
                                                .device_id = d.device_id,
                                                .connected_account_id = d.connected_account_id});
    if (!err_failed(e) && r->online)
        e = store_access_codes_wake(s, d.device_id, c->now);
    return e;
}

static err simulate(api_call *c, bool online)
{
    reach r = {c, param_required_str(c->p, "device_id"), online};
    err e = params_check(c->p);
    if (!err_failed(e))
        e = api_sandbox_only(c);
    if (!err_failed(e))
        e = store_transaction(c->srv->store, set_reach, &r);
    if (err_failed(e))
        return e;
    action_worker_wake(c->srv->actions);
    c->out = json_object();
    return ERR_NONE;
}

err devices_simulate_connect(api_call *c) { return simulate(c, true); }
err devices_simulate_disconnect(api_call *c) { return simulate(c, false); }
