/* connect_webviews/create, get, list (scoped: a client session sees the
 * webviews it holds, and those it creates are granted to it) and delete
 * (API key). The webview's page is api/connect_page.c. */
#include <string.h>

#include "api/capabilities.h"
#include "api/connect_webviews.h"
#include "api/listing.h"
#include "api/metadata.h"
#include "api/render.h"
#include "core/ids.h"
#include "providers/provider.h"

const char *connect_webview_url(const api_server *srv, arena *a, const store_connect_webview *cw)
{
    const char *token = cw->auth_token_sealed ? token_unseal(a, &srv->keys, cw->auth_token_sealed)
                                              : NULL;
    return arena_sprintf(a, "%s/connect_webviews/view?connect_webview_id=%s&auth_token=%s",
                         srv->public_url, cw->connect_webview_id, token ? token : "");
}

static json_t *render(api_call *c, const store_connect_webview *cw)
{
    return render_connect_webview(cw, connect_webview_url(c->srv, c->a, cw));
}

static bool is_http_url(const char *s)
{
    return (strncmp(s, "http://", 7) == 0 && s[7]) || (strncmp(s, "https://", 8) == 0 && s[8]);
}

static void read_url(api_call *c, const char *key, const char **out)
{
    if (param_long_str(c->p, key, PARAM_MAX_URL, out) &&
        (!is_http_url(*out) || strpbrk(*out, " \r\n\"<>"))) {
        param_reject(c->p, key, "Expected an http or https URL");
        *out = NULL;
    }
}

static bool named(const str_list *l, const char *name)
{
    for (size_t i = 0; l && i < l->count; i++)
        if (strcmp(l->items[i], name) == 0)
            return true;
    return false;
}

static void check_known(api_call *c, const char *key, const str_list *names)
{
    for (size_t i = 0; i < names->count; i++)
        if (!provider_find(names->items[i]))
            param_reject(c->p, key, arena_sprintf(c->a, "Unknown provider '%s'", names->items[i]));
}

/* The providers the webview offers, comma-separated: accepted_providers
 * (by default the sandbox providers; a live provider, Zigbee2MQTT or Home
 * Assistant, makes latchkey connect to an address the webview's user
 * types, so it is offered only when the app names it), within
 * provider_category when given, less excluded_providers. */
static const char *read_providers(api_call *c, const char *capabilities)
{
    str_list accepted, excluded;
    bool listed = param_str_list(c->p, "accepted_providers", &accepted);
    bool excluding = param_str_list(c->p, "excluded_providers", &excluded);
    const char *category = NULL;
    if (param_nonempty_str(c->p, "provider_category", &category) && !provider_category_known(category))
        param_reject(c->p, "provider_category", "Unknown provider category");
    if (listed) {
        check_known(c, "accepted_providers", &accepted);
        if (accepted.count == 0)
            param_reject(c->p, "accepted_providers", "Name at least one provider");
    }
    if (excluding)
        check_known(c, "excluded_providers", &excluded);
    size_t n;
    const provider *const *all = providers_all(&n);
    const char *list = "";
    for (size_t i = 0; i < n; i++) {
        const provider *p = all[i];
        bool offered = listed ? named(&accepted, p->name) : !p->live;
        if (offered && category)
            offered = provider_in_category(p, category);
        if (offered)
            offered = capabilities_hold(capabilities, capability_of(p));
        if (offered && !named(excluding ? &excluded : NULL, p->name))
            list = arena_sprintf(c->a, "%s%s%s", list, *list ? "," : "", p->name);
    }
    if (!*list)
        param_reject(c->p, listed     ? "accepted_providers"
                           : category ? "provider_category"
                           : excluding ? "excluded_providers"
                                       : "accepted_capabilities",
                     "No provider is left to offer");
    return list;
}

typedef struct webview_creation {
    const store_connect_webview *cw;
    const char *client_session_id; /* the creating session, or NULL */
} webview_creation;

static err create_webview(store *s, void *ctx)
{
    const webview_creation *w = ctx;
    err e = store_connect_webview_create(s, w->cw);
    if (err_failed(e) || !w->client_session_id)
        return e;
    store_client_session_grants grants = {
        .connect_webview_ids = {&w->cw->connect_webview_id, 1},
    };
    return store_client_session_grant(s, w->cw->workspace_id, w->client_session_id, &grants, 0);
}

err connect_webviews_create(api_call *c)
{
    store_connect_webview cw = {.status = "pending", .device_selection_mode = "none",
                                .created_at = c->now, .workspace_id = c->auth->workspace_id};
    cw.accepted_capabilities = capabilities_read(c, "accepted_capabilities");
    cw.accepted_providers = read_providers(c, cw.accepted_capabilities);
    read_url(c, "custom_redirect_url", &cw.custom_redirect_url);
    read_url(c, "custom_redirect_failure_url", &cw.custom_redirect_failure_url);
    json_t *metadata = NULL;
    /* null values are allowed (Seam Components send the session's missing
     * user_identifier_key as null): such a key is not set. */
    metadata_read(c, "custom_metadata", true, &metadata);
    if (metadata)
        cw.custom_metadata = metadata_merge(c->a, NULL, metadata);
    json_decref(metadata);
    if (param_nonempty_str(c->p, "device_selection_mode", &cw.device_selection_mode) &&
        strcmp(cw.device_selection_mode, "none") != 0 &&
        strcmp(cw.device_selection_mode, "single") != 0 &&
        strcmp(cw.device_selection_mode, "multiple") != 0)
        param_reject(c->p, "device_selection_mode", "Expected none, single or multiple");
    param_nonempty_str(c->p, "customer_key", &cw.customer_key);
    bool flag;
    param_bool(c->p, "wait_for_device_creation", &flag); /* devices exist on completion */
    if (param_bool(c->p, "automatically_manage_new_devices", &flag) && !flag)
        param_reject(c->p, "automatically_manage_new_devices",
                     "latchkey manages every device it connects: only true is supported");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    cw.connect_webview_id = id;
    cw.auth_token_sealed = token_seal(c->a, &c->srv->keys, token_new_url_secret(c->a));
    webview_creation w = {&cw, c->auth->kind == CRED_CLIENT_SESSION
                                   ? c->auth->session->client_session_id
                                   : NULL};
    if (err_failed(e = store_transaction(c->srv->store, create_webview, &w)))
        return e;
    c->out = json_pack("{s:o}", "connect_webview", render(c, &cw));
    return ERR_NONE;
}

err connect_webviews_get(api_call *c)
{
    const char *id = param_required_str(c->p, "connect_webview_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_connect_webview cw;
    if (err_failed(e = store_connect_webview_get(c->srv->store, c->a, &scope, id, &cw)))
        return e;
    c->out = json_pack("{s:o}", "connect_webview", render(c, &cw));
    return ERR_NONE;
}

static json_t *render_webview_row(api_call *c, const void *row) { return render(c, row); }

static err fetch_webviews(api_call *c, const store_scope *scope, const store_list_filter *f,
                          const store_page *page, void **rows, size_t *n)
{
    store_connect_webview *list = NULL;
    err e = store_connect_webview_list(c->srv->store, c->a, scope, f, page, &list, n);
    *rows = list;
    return e;
}

err connect_webviews_list(api_call *c)
{
    return listing_by_user_and_metadata(c, "connect_webviews", fetch_webviews, NULL,
                                        sizeof(store_connect_webview), render_webview_row);
}

err connect_webviews_delete(api_call *c)
{
    const char *id = param_required_str(c->p, "connect_webview_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    return store_connect_webview_delete(c->srv->store, &scope, id);
}
