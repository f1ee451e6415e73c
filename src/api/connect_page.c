/* The connect webview's page (docs/connect-webview.md): provider picker,
 * login form, success and failure, then the redirect. Server-rendered, no
 * JavaScript. Connecting an account writes the account, its devices, the
 * events and the webview's new state in one transaction. */
#include <string.h>

#include "api/handler.h"
#include "core/ids.h"
#include "providers/provider.h"
#include "web/templates.h"

enum { MAX_FAILED_LOGINS = 5 };

typedef struct page {
    api_call *c;
    store_connect_webview cw;
    const char *action; /* this page's own URL (relative), for forms */
    bool sandbox;
} page;

static void render(page *pg, int status, const char *title, const char *content)
{
    template_var vars[] = {{"title", title}, {"content", content}};
    pg->c->html = template_render(pg->c->a, "layout.html", vars, 2);
    pg->c->html_status = status;
}

static void render_result(page *pg, int status, const char *heading, const char *message)
{
    template_var vars[] = {{"heading", heading}, {"message", message}};
    render(pg, status, heading, template_render(pg->c->a, "result.html", vars, 2));
}

static bool accepts(const store_connect_webview *cw, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = cw->accepted_providers; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (comma != NULL);
    }
    return false;
}

/* The accepted providers, in the catalogue's order. */
static size_t accepted(const store_connect_webview *cw, const provider **out, size_t max)
{
    size_t n, count = 0;
    const provider *const *all = providers_all(&n);
    for (size_t i = 0; i < n && count < max; i++)
        if (accepts(cw, all[i]->name))
            out[count++] = all[i];
    return count;
}

static void show_picker(page *pg)
{
    const provider *list[16];
    size_t n = accepted(&pg->cw, list, 16);
    arena *a = pg->c->a;
    const char *buttons = "";
    for (size_t i = 0; i < n; i++)
        buttons = arena_sprintf(a, "%s<li><button type=\"submit\" name=\"provider\" value=\"%s\">%s"
                                   "</button></li>\n",
                                buttons, html_escape(a, list[i]->name),
                                html_escape(a, list[i]->display_name));
    template_var vars[] = {{"action", pg->action}, {"buttons", buttons}};
    render(pg, 200, "Connect an account", template_render(a, "picker.html", vars, 2));
}

static void show_login(page *pg, const provider *p, const char *username, const char *error)
{
    arena *a = pg->c->a;
    const provider *list[16];
    const char *back = accepted(&pg->cw, list, 16) > 1
                           ? arena_sprintf(a, "<p><a href=\"%s\">Choose another brand</a></p>",
                                           html_escape(a, pg->action))
                           : NULL;
    const char *sandbox = NULL;
    if (pg->sandbox && p->sandbox_logins) {
        sandbox = "<div class=\"sandbox\"><p>Sandbox logins (password <code>1234</code>):</p><ul>";
        for (const char *const *l = p->sandbox_logins; *l; l++)
            sandbox = arena_sprintf(a, "%s<li><code>%s</code></li>", sandbox, html_escape(a, *l));
        sandbox = arena_sprintf(a, "%s</ul></div>", sandbox);
    }
    const char *error_html =
        error ? arena_sprintf(a, "<p role=\"alert\" class=\"error\">%s</p>", html_escape(a, error))
              : NULL;
    template_var vars[] = {{"provider_display", p->display_name}, {"provider", p->name},
                           {"action", pg->action},            {"username", username},
                           {"error", error_html},             {"back", back},
                           {"sandbox", sandbox}};
    render(pg, 200, arena_sprintf(a, "Sign in to %s", p->display_name),
           template_render(a, "login.html", vars, sizeof vars / sizeof *vars));
}

/* url with extra query parameters, before any fragment. */
static const char *with_query(arena *a, const char *url, const char *extra)
{
    const char *hash = strchr(url, '#');
    size_t base = hash ? (size_t)(hash - url) : strlen(url);
    const char *q = memchr(url, '?', base);
    return arena_sprintf(a, "%.*s%s%s%s", (int)base, url, q ? "&" : "?", extra, hash ? hash : "");
}

static void show_outcome(page *pg)
{
    const store_connect_webview *cw = &pg->cw;
    arena *a = pg->c->a;
    if (strcmp(cw->status, "authorized") == 0) {
        if (cw->custom_redirect_url) {
            pg->c->redirect = with_query(a, cw->custom_redirect_url,
                                         arena_sprintf(a, "connect_webview_id=%s&connected_account_id=%s",
                                                       cw->connect_webview_id,
                                                       cw->connected_account_id ? cw->connected_account_id : ""));
            return;
        }
        const provider *p = cw->selected_provider ? provider_find(cw->selected_provider) : NULL;
        store_scope scope = {.workspace_id = cw->workspace_id};
        str_list account = {&cw->connected_account_id, cw->connected_account_id ? 1 : 0};
        store_device_filter f = {.connected_account_ids = &account};
        store_page all = {.after_seq = 0, .limit = 10000};
        store_device *devices;
        size_t n = 0;
        err e = store_device_list(pg->c->srv->store, a, &scope, &f, &all, &devices, &n);
        render_result(pg, 200, "Connected",
                      arena_sprintf(a, "Your %s account is connected%s. You can close this page.",
                                    p ? p->display_name : "device",
                                    err_failed(e) ? ""
                                    : n == 1      ? " with 1 device"
                                                  : arena_sprintf(a, " with %zu devices", n)));
        return;
    }
    const char *target = cw->custom_redirect_failure_url ? cw->custom_redirect_failure_url
                                                         : cw->custom_redirect_url;
    if (target) {
        pg->c->redirect = with_query(a, target, arena_sprintf(a, "connect_webview_id=%s&error=%s",
                                                              cw->connect_webview_id,
                                                              cw->error ? cw->error : "failed"));
        return;
    }
    render_result(pg, 200, "Not connected", "No account was connected. You can close this page.");
}

/* No such webview (or it was deleted meanwhile), or not its token. */
static void show_link_not_found(page *pg)
{
    render_result(pg, 404, "Link not found",
                  "This connect link does not exist or is no longer valid.");
}

/* The webview was ended by another tab meanwhile: show how it ended. */
static err show_current_outcome(page *pg)
{
    err e = store_connect_webview_for_page(pg->c->srv->store, pg->c->a,
                                           pg->cw.connect_webview_id, &pg->cw);
    if (store_not_found(e)) {
        show_link_not_found(pg);
        return ERR_NONE;
    }
    if (!err_failed(e))
        show_outcome(pg);
    return e;
}

/* After ending the webview: not found when another tab ended it first. */
static err show_ended(page *pg, err e)
{
    if (store_not_found(e))
        return show_current_outcome(pg);
    if (!err_failed(e))
        show_outcome(pg);
    return e;
}

static err fail(page *pg, const char *reason)
{
    pg->cw.status = "failed";
    pg->cw.error = reason;
    return show_ended(pg, store_connect_webview_update(pg->c->srv->store, &pg->cw));
}

typedef struct connection {
    page *pg;
    const provider *p;
    const provider_account *account;
} connection;

/* The account (reused for the same login), its devices, the events, and
 * the webview, authorized. */
static err connect_account(store *s, void *ctx)
{
    connection *cn = ctx;
    api_call *c = cn->pg->c;
    store_connect_webview *cw = &cn->pg->cw;
    char *account_id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(account_id);
    store_connected_account ca = {.connected_account_id = account_id,
                                  .workspace_id = cw->workspace_id,
                                  .provider = cn->p->name,
                                  .user_email = cn->account->login,
                                  .provider_login = cn->account->login,
                                  .created_at = c->now};
    bool account_created = false;
    err e = store_connected_account_connect(s, c->a, &ca, &account_created);
    if (err_failed(e))
        return e;
    store_event ev = {.workspace_id = cw->workspace_id,
                      .connected_account_id = ca.connected_account_id,
                      .connect_webview_id = cw->connect_webview_id};
    for (size_t i = 0; i < cn->account->device_count && !err_failed(e); i++) {
        const provider_device *pd = &cn->account->devices[i];
        char *id = arena_alloc(c->a, UUID_STR_LEN);
        uuid_v4(id);
        store_device d = {.device_id = id, .workspace_id = cw->workspace_id,
                          .connected_account_id = ca.connected_account_id,
                          .device_type = cn->p->device_type, .manufacturer = cn->p->manufacturer,
                          .name = pd->name, .model = pd->model, .online = pd->online,
                          .locked = pd->locked, .battery_level = pd->battery_level,
                          .can_remotely_lock = pd->can_remotely_lock,
                          .can_remotely_unlock = pd->can_remotely_unlock,
                          .provider_device_key = pd->key,
                          .extra_properties = pd->extra_properties, .created_at = c->now};
        bool created = false;
        e = store_device_upsert(s, c->a, &d, &created);
        if (!err_failed(e) && created) {
            store_event dev = ev;
            dev.event_type = "device.connected";
            dev.device_id = d.device_id;
            e = store_event_record(s, dev);
        }
    }
    const char *types[] = {account_created ? "connected_account.created" : NULL,
                           "connected_account.connected"};
    for (size_t i = 0; i < 2 && !err_failed(e); i++) {
        if (!types[i])
            continue;
        ev.event_type = types[i];
        e = store_event_record(s, ev);
    }
    if (err_failed(e))
        return e;
    cw->status = "authorized";
    cw->connected_account_id = ca.connected_account_id;
    cw->selected_provider = cn->p->name;
    cw->login_successful = true;
    cw->authorized_at = c->now;
    cw->error = NULL;
    /* Not found when another tab ended the webview while this one was
     * connecting: everything above rolls back with it. */
    return store_connect_webview_update(s, cw);
}

static err handle_post(page *pg, const char *provider_name, const char *action,
                       const char *username, const char *password)
{
    const provider *p = provider_name ? provider_find(provider_name) : NULL;
    if (!p || !accepts(&pg->cw, p->name)) {
        render_result(pg, 400, "Not available",
                      "That brand is not offered here. Go back and choose another.");
        return ERR_NONE;
    }
    if (!action) { /* the picker's choice */
        show_login(pg, p, NULL, NULL);
        return ERR_NONE;
    }
    if (strcmp(action, "cancel") == 0)
        return fail(pg, "user_cancelled");
    const provider_account *account = NULL;
    if (p->login(p, username, password, &account) != PROVIDER_OK) {
        int64_t failed = 0;
        err e = store_connect_webview_failed_login(pg->c->srv->store, pg->cw.workspace_id,
                                                   pg->cw.connect_webview_id, &failed);
        if (store_not_found(e)) /* no longer pending */
            return show_current_outcome(pg);
        if (err_failed(e))
            return e;
        if (failed >= MAX_FAILED_LOGINS)
            return fail(pg, "too_many_attempts");
        show_login(pg, p, username, "The email or password is not right. Try again.");
        return ERR_NONE;
    }
    connection cn = {pg, p, account};
    return show_ended(pg, store_transaction(pg->c->srv->store, connect_account, &cn));
}

err connect_webview_page(api_call *c)
{
    page pg = {.c = c};
    const char *id = NULL, *token = NULL, *provider_name = NULL, *action = NULL,
               *username = NULL, *password = NULL;
    param_str(c->p, "connect_webview_id", &id);
    param_str(c->p, "auth_token", &token);
    param_str(c->p, "provider", &provider_name);
    param_str(c->p, "action", &action);
    param_str(c->p, "username", &username);
    param_str(c->p, "password", &password);
    err e = ERR_NONE;
    if (id && token)
        e = store_connect_webview_for_page(c->srv->store, c->a, id, &pg.cw);
    if (err_failed(e) && !store_not_found(e))
        return e;
    const char *expected = !err_failed(e) && pg.cw.auth_token_sealed
                               ? token_unseal(c->a, &c->srv->keys, pg.cw.auth_token_sealed)
                               : NULL;
    if (!expected || !token_equal(expected, token)) {
        show_link_not_found(&pg);
        return ERR_NONE;
    }
    store_workspace w; /* only for the sandbox logins shown: a failure hides them */
    pg.sandbox = !err_failed(store_workspace_get(c->srv->store, c->a, pg.cw.workspace_id, &w)) &&
                 w.is_sandbox;
    pg.action = arena_sprintf(c->a, "?connect_webview_id=%s&auth_token=%s",
                              pg.cw.connect_webview_id, token);
    if (strcmp(pg.cw.status, "pending") != 0) {
        show_outcome(&pg);
        return ERR_NONE;
    }
    if (strcmp(c->method, "POST") == 0)
        return handle_post(&pg, provider_name, action, username, password);
    const provider *list[16];
    if (accepted(&pg.cw, list, 16) == 1)
        show_login(&pg, list[0], NULL, NULL);
    else
        show_picker(&pg);
    return ERR_NONE;
}
