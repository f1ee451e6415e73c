/* Requests that wait for an action attempt (sync: true): the HTTP layer
 * parks them and asks here, and only here, whether the wait is over and
 * what the answer is. The attempt is read from the store each time, so an
 * attempt completed by any node ends the wait. */
#include <string.h>

#include "api/render.h"
#include "api/respond.h"
#include "core/timeutil.h"
#include "jobs/action_worker.h"

/* The awaited attempt, as it is now. */
static err awaited(const api_server *srv, arena *a, const api_wait *w, store_action_attempt *aa)
{
    store_scope scope = {.workspace_id = w->workspace_id};
    return store_action_attempt_get(srv->store, a, &scope, w->action_attempt_id, aa);
}

bool api_wait_over(const api_server *srv, const api_wait *w)
{
    if (time_now_ms() >= w->deadline_ms)
        return true;
    arena a;
    arena_init(&a);
    store_action_attempt aa;
    bool over = err_failed(awaited(srv, &a, w, &aa)) || strcmp(aa.status, "success") == 0 ||
                strcmp(aa.status, "error") == 0;
    arena_free(&a);
    return over;
}

void api_wait_answer(const api_server *srv, arena *a, const api_wait *w, api_response *res)
{
    memset(res, 0, sizeof *res);
    store_action_attempt aa;
    err e = awaited(srv, a, w, &aa);
    if (store_not_found(e))
        e = err_make(ERR_INTERNAL, "internal_error", "The action attempt vanished.");
    if (err_failed(e)) {
        respond_error(res, e, NULL);
        return;
    }
    respond_json(res, 200, json_pack("{s:o,s:b}", "action_attempt", render_action_attempt(&aa),
                                     "ok", 1));
}

void api_wait_progress(const api_server *srv, int64_t deadline_ms)
{
    action_worker_wait(srv->actions, deadline_ms);
}
