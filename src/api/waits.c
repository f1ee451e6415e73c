/* Requests that wait for an action attempt (sync: true): the HTTP layer
 * parks them and asks here, and only here, whether the wait is over and
 * what the answer is. The attempts are read from the store each time, so
 * an attempt completed by any node ends the wait. */
#include <stdlib.h>
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

static int compare_ids(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

void api_waits_over(const api_server *srv, const api_wait *const *w, size_t n, bool *over)
{
    arena a;
    arena_init(&a);
    const char **ids = arena_alloc(&a, (n + 1) * sizeof *ids);
    const char **unfinished;
    size_t nids = 0, nunfinished = 0;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < n; i++) {
        over[i] = now >= w[i]->deadline_ms;
        if (!over[i])
            ids[nids++] = w[i]->action_attempt_id;
    }
    str_list l = {ids, nids};
    if (nids && !err_failed(store_action_attempts_unfinished(srv->store, &a, &l, &unfinished,
                                                             &nunfinished))) {
        qsort(unfinished, nunfinished, sizeof *unfinished, compare_ids);
        for (size_t i = 0; i < n; i++)
            over[i] = over[i] || !bsearch(&w[i]->action_attempt_id, unfinished, nunfinished,
                                          sizeof *unfinished, compare_ids);
    }
    arena_free(&a);
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
    json_t *out = json_pack("{s:o,s:b}", "action_attempt", render_action_attempt(&aa), "ok", 1);
    json_t *also = w->also ? json_loads(w->also, 0, NULL) : NULL;
    if (json_is_object(also))
        json_object_update(out, also);
    json_decref(also);
    respond_json(res, 200, out);
}

void api_wait_progress(const api_server *srv, int64_t deadline_ms, uint64_t *seen)
{
    action_worker_wait(srv->actions, deadline_ms, seen);
}
