/* Paginated list responses (listing.h). */
#include "api/listing.h"

#include "api/metadata.h"

#include <string.h>

enum { LIST_DEFAULT_LIMIT = 500, LIST_MAX_LIMIT = 10000 };

void listing_init(listing *l, api_call *c)
{
    memset(l, 0, sizeof *l);
    page_filters_init(&l->filters, c->a);
}

void listing_add_metadata(listing *l, api_call *c, const metadata_filter *m)
{
    for (size_t i = 0; m && i < m->count; i++) {
        const metadata_match *x = &m->items[i];
        page_filters_add(&l->filters, arena_sprintf(c->a, "custom_metadata_has.%s", x->key),
                         x->is_bool ? (x->bool_value ? "true" : "false") : x->str_value);
    }
}

err listing_begin(listing *l, api_call *c, const store_scope *scope, store_page *sp)
{
    /* A cursor is good for this route, these filters and this scope only. */
    l->scope_key = arena_sprintf(c->a, "%s %s", c->path, api_scope_key(c, scope));
    pagination_read(c->p, &l->filters, l->scope_key, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, &l->page);
    sp->after_seq = l->page.after;
    sp->limit = (size_t)l->page.limit + 1;
    return params_check(c->p);
}

err listing_respond(listing *l, api_call *c, const char *key, const void *rows, size_t n,
                    size_t elem, row_renderer render)
{
    bool has_next = n > (size_t)l->page.limit;
    if (has_next)
        n = (size_t)l->page.limit;
    json_t *arr = json_array();
    const char *bytes = rows;
    for (size_t i = 0; i < n; i++) {
        json_t *item = render(c, bytes + i * elem);
        if (!item) {
            json_decref(arr);
            return err_make(ERR_INTERNAL, "internal_error",
                            "A stored object could not be rendered (sealed with another server "
                            "secret?).");
        }
        json_array_append_new(arr, item);
    }
    int64_t last = 0;
    if (n)
        memcpy(&last, bytes + (n - 1) * elem, sizeof last);
    const char *base_url = arena_sprintf(c->a, "%s%s", c->srv->public_url, c->path);
    c->out = json_pack("{s:o,s:o}", key, arr, "pagination",
                       pagination_json(c->a, &l->filters, l->scope_key, base_url, &l->page,
                                       has_next, last));
    return ERR_NONE;
}

err listing_by_user_and_metadata(api_call *c, const char *key, user_metadata_fetch fetch,
                                 const char *const *absent, size_t elem, row_renderer render)
{
    listing l;
    listing_init(&l, c);
    const char *uik = NULL;
    if (param_nonempty_str(c->p, "user_identifier_key", &uik))
        page_filters_add(&l.filters, "user_identifier_key", uik);
    store_list_filter f = {.metadata = metadata_filter_read(c, "custom_metadata_has")};
    listing_add_metadata(&l, c, f.metadata);
    if (param_str(c->p, "customer_key", &f.customer_key))
        page_filters_add(&l.filters, "customer_key", f.customer_key);
    if (param_nonempty_str(c->p, "search", &f.search))
        page_filters_add(&l.filters, "search", f.search);
    f.none = absent && param_names_absent_resource(c->p, absent);
    store_scope scope = api_scope(c, uik);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    if (err_failed(e))
        return e;
    void *rows = NULL;
    size_t n = 0;
    e = fetch(c, &scope, &f, &sp, &rows, &n);
    return err_failed(e) ? e : listing_respond(&l, c, key, rows, n, elem, render);
}
