/* devices/get and devices/list, always within the caller's scope: a client
 * session token sees the devices of its session's connected accounts, and
 * user_identifier_key narrows any caller to that user's session. */
#include <inttypes.h>
#include <string.h>

#include "api/handler.h"
#include "api/pagination.h"
#include "api/render.h"
#include "core/device_types.h"

enum { DEVICES_DEFAULT_LIMIT = 500, DEVICES_MAX_LIMIT = 10000 };

static err device_not_found(void)
{
    return err_make(ERR_NOT_FOUND, "device_not_found", "Device not found.");
}

err devices_get(api_call *c)
{
    const char *device_id = NULL, *name = NULL;
    param_nonempty_str(c->p, "device_id", &device_id);
    param_nonempty_str(c->p, "name", &name);
    if (!device_id && !name && !param_present(c->p, "device_id") && !param_present(c->p, "name"))
        param_reject(c->p, "device_id", "Required: device_id or name");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_device d;
    if (!store_device_get(c->srv->store, c->a, &scope, device_id, name, &d, &e))
        return err_failed(e) ? e : device_not_found();
    c->out = json_pack("{s:o}", "device", render_device(&d));
    return ERR_NONE;
}

/* A filter given both as `single` and as `plural`: the items of the list
 * that equal the single value (both must hold); one alone is used as is. */
static const str_list *combine_filter(api_call *c, const char *single, bool has_list,
                                      str_list *list)
{
    if (!single)
        return has_list ? list : NULL;
    str_list *out = arena_zalloc(c->a, sizeof *out);
    const char **items = arena_alloc(c->a, sizeof *items);
    items[0] = single;
    out->items = items;
    out->count = 1;
    if (has_list) {
        bool in_list = false;
        for (size_t i = 0; i < list->count; i++)
            in_list = in_list || strcmp(list->items[i], single) == 0;
        out->count = in_list ? 1 : 0;
    }
    return out;
}

static void check_device_types(api_call *c, const char *key, const str_list *types)
{
    for (size_t i = 0; i < types->count; i++)
        if (!device_type_is_known(types->items[i]))
            param_reject(c->p, key, arena_sprintf(c->a, "Unknown device type '%s'",
                                                  types->items[i]));
}

err devices_list(api_call *c)
{
    str_list device_ids, account_ids, types;
    const char *account_id = NULL, *type = NULL, *manufacturer = NULL, *uik = NULL;
    bool has_ids = param_str_list(c->p, "device_ids", &device_ids);
    bool has_accounts = param_str_list(c->p, "connected_account_ids", &account_ids);
    bool has_types = param_str_list(c->p, "device_types", &types);
    param_nonempty_str(c->p, "connected_account_id", &account_id);
    param_nonempty_str(c->p, "device_type", &type);
    param_nonempty_str(c->p, "manufacturer", &manufacturer);
    param_nonempty_str(c->p, "user_identifier_key", &uik);
    if (has_types)
        check_device_types(c, "device_types", &types);
    if (type && !device_type_is_known(type))
        param_reject(c->p, "device_type", arena_sprintf(c->a, "Unknown device type '%s'", type));

    /* The filters, canonically, for the cursor and next_page_url. */
    page_filters pf;
    page_filters_init(&pf, c->a);
    if (has_ids)
        page_filters_add_list(&pf, "device_ids", &device_ids);
    if (has_accounts)
        page_filters_add_list(&pf, "connected_account_ids", &account_ids);
    if (has_types)
        page_filters_add_list(&pf, "device_types", &types);
    const struct {
        const char *key, *value;
    } singles[] = {{"connected_account_id", account_id}, {"device_type", type},
                   {"manufacturer", manufacturer}, {"user_identifier_key", uik}};
    for (size_t i = 0; i < sizeof singles / sizeof *singles; i++)
        if (singles[i].value)
            page_filters_add(&pf, singles[i].key, singles[i].value);

    store_scope scope = api_scope(c, uik);
    const char *scope_key = api_scope_key(c, &scope);
    page_request page;
    pagination_read(c->p, &pf, scope_key, DEVICES_DEFAULT_LIMIT, DEVICES_MAX_LIMIT, &page);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;

    store_device_filter f = {
        .device_ids = has_ids ? &device_ids : NULL,
        .connected_account_ids = combine_filter(c, account_id, has_accounts, &account_ids),
        .device_types = combine_filter(c, type, has_types, &types),
        .manufacturer = manufacturer,
    };
    /* One more than the page tells whether a next page exists. */
    store_page sp = {.after_seq = page.after, .limit = (size_t)page.limit + 1};
    store_device *rows = NULL;
    size_t n = 0;
    e = store_device_list(c->srv->store, c->a, &scope, &f, &sp, &rows, &n);
    if (err_failed(e))
        return e;
    bool has_next = n > (size_t)page.limit;
    if (has_next)
        n = (size_t)page.limit;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_device(&rows[i]));
    const char *base_url = arena_sprintf(c->a, "%s%s", c->srv->public_url, c->path);
    c->out = json_pack("{s:o,s:o}", "devices", arr, "pagination",
                       pagination_json(c->a, &pf, scope_key, base_url, &page, has_next,
                                       n ? rows[n - 1].seq : 0));
    return ERR_NONE;
}
