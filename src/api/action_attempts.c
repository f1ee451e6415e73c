/* action_attempts/get (scoped: a client session sees the attempts on its
 * accounts' devices) and action_attempts/list (API key). */
#include "api/listing.h"
#include "api/render.h"

err action_attempts_get(api_call *c)
{
    const char *id = param_required_str(c->p, "action_attempt_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_action_attempt aa;
    if (err_failed(e = store_action_attempt_get(c->srv->store, c->a, &scope, id, &aa)))
        return e;
    c->out = json_pack("{s:o}", "action_attempt", render_action_attempt(&aa));
    return ERR_NONE;
}

static json_t *render_attempt_row(api_call *c, const void *row)
{
    (void)c;
    return render_action_attempt(row);
}

err action_attempts_list(api_call *c)
{
    listing l;
    listing_init(&l, c);
    str_list ids;
    const char *device_id = NULL;
    bool has_ids = param_str_list(c->p, "action_attempt_ids", &ids);
    param_nonempty_str(c->p, "device_id", &device_id);
    if (has_ids)
        page_filters_add_list(&l.filters, "action_attempt_ids", &ids);
    if (device_id)
        page_filters_add(&l.filters, "device_id", device_id);
    store_scope scope = api_scope(c, NULL);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    if (err_failed(e))
        return e;
    store_action_attempt *rows = NULL;
    size_t n = 0;
    e = store_action_attempt_list(c->srv->store, c->a, &scope, has_ids ? &ids : NULL, device_id,
                                  &sp, &rows, &n);
    return err_failed(e) ? e : listing_respond(&l, c, "action_attempts", rows, n, sizeof *rows, render_attempt_row);
}
