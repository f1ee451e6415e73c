/* events/get and events/list, scoped: a client session sees the events of
 * its connected accounts and their devices. */
#include "api/handler.h"
#include "api/render.h"
#include "core/timeutil.h"

enum { EVENTS_DEFAULT_LIMIT = 500, EVENTS_MAX_LIMIT = 10000 };

err events_get(api_call *c)
{
    const char *id = NULL;
    if (!param_nonempty_str(c->p, "event_id", &id) && !param_present(c->p, "event_id"))
        param_reject(c->p, "event_id", "Required");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_event ev;
    if (!store_event_get(c->srv->store, c->a, &scope, id, &ev, &e))
        return err_failed(e) ? e : err_make(ERR_NOT_FOUND, "event_not_found", "Event not found.");
    c->out = json_pack("{s:o}", "event", render_event(&ev));
    return ERR_NONE;
}

/* A filter given as `single` and/or `plural`, as one list (NULL: none). */
static const str_list *one_or_many(api_call *c, const char *single, const char *plural,
                                   str_list *storage)
{
    const char *one = NULL;
    bool many = param_str_list(c->p, plural, storage);
    param_nonempty_str(c->p, single, &one);
    if (!one)
        return many ? storage : NULL;
    const char **items = arena_alloc(c->a, (storage->count + 1) * sizeof *items);
    size_t n = 0;
    if (many)
        for (size_t i = 0; i < storage->count; i++)
            items[n++] = storage->items[i];
    items[n++] = one;
    *storage = (str_list){items, n};
    return storage;
}

err events_list(api_call *c)
{
    store_event_filter f = {0};
    str_list devices, types, between;
    f.device_ids = one_or_many(c, "device_id", "device_ids", &devices);
    f.event_types = one_or_many(c, "event_type", "event_types", &types);
    param_nonempty_str(c->p, "connected_account_id", &f.connected_account_id);
    param_nonempty_str(c->p, "connect_webview_id", &f.connect_webview_id);
    param_time(c->p, "since", &f.since);
    if (param_str_list(c->p, "between", &between)) {
        int64_t from = 0, to = 0;
        if (between.count != 2 || !time_parse_iso8601(between.items[0], &from) ||
            !time_parse_iso8601(between.items[1], &to))
            param_reject(c->p, "between", "Two ISO 8601 date-times: [from, to]");
        else if (from > to)
            param_reject(c->p, "between", "The first date-time must not be after the second");
        else {
            /* The interval is exclusive; with since too, both must hold. */
            if (from + 1 > f.since)
                f.since = from + 1;
            f.until = to - 1;
        }
    }
    int64_t limit = EVENTS_DEFAULT_LIMIT;
    param_int(c->p, "limit", 1, EVENTS_MAX_LIMIT, &limit);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_page page = {.after_seq = 0, .limit = (size_t)limit};
    store_event *rows = NULL;
    size_t n = 0;
    e = store_event_list(c->srv->store, c->a, &scope, &f, &page, &rows, &n);
    if (err_failed(e))
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_event(&rows[i]));
    c->out = json_pack("{s:o}", "events", arr);
    return ERR_NONE;
}
