/* Starting action attempts (actions.h). */
#include "api/actions.h"

#include "api/render.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "jobs/action_worker.h"

enum { SYNC_TIMEOUT_MS = 30000 };

typedef struct creation {
    const store_action_attempt *aa;
    const action_extra *x;
} creation;

static err create(store *s, void *ctx)
{
    const creation *cr = ctx;
    err e = cr->x->write(s, cr->x->ctx);
    return err_failed(e) ? e : store_action_attempt_create(s, cr->aa);
}

err action_start(api_call *c, const store_device *d, const char *action_type, const char *asked,
                 bool sync, const action_extra *x)
{
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    store_action_attempt aa = {
        .action_attempt_id = id,
        .workspace_id = d->workspace_id,
        .device_id = d->device_id,
        .connected_account_id = d->connected_account_id,
        .action_type = action_type,
        .status = "pending",
        .created_at = c->now,
        .due_at = c->now + c->srv->action_delay_ms,
        .params = asked,
    };
    json_t *also = x ? x->answer : NULL;
    creation cr = {&aa, x};
    err e = x && x->write ? store_transaction(c->srv->store, create, &cr)
                          : store_action_attempt_create(c->srv->store, &aa);
    if (err_failed(e)) {
        json_decref(also);
        return e;
    }
    action_worker_wake(c->srv->actions);
    if (sync) { /* answered when the attempt is done (api_wait_answer) */
        c->wait = (api_wait){aa.action_attempt_id, aa.workspace_id, c->now + SYNC_TIMEOUT_MS,
                             also ? json_text(c->a, also) : NULL};
        return ERR_NONE;
    }
    c->out = json_pack("{s:o}", "action_attempt", render_action_attempt(&aa));
    if (also)
        json_object_update(c->out, also);
    json_decref(also);
    return ERR_NONE;
}
