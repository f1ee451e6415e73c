/* The connect webview's page (docs/connect-webview.md): provider picker,
 * login form, success and failure, then the redirect. Server-rendered, no
 * JavaScript. Connecting an account writes the account, its devices, the
 * events and the webview's new state in one transaction. */
#include <string.h>

#include "api/handler.h"
#include "jobs/accounts.h"
#include "jobs/links.h"
#include "providers/live.h"
#include "providers/provider.h"
#include "web/templates.h"

enum { MAX_FAILED_LOGINS = 5 };

typedef struct page {
    api_call *c;
    store_connect_webview cw;
    const char *action; /* this page's own URL (relative), for forms */
    bool sandbox;
} page;

static void render_with_head(page *pg, int status, const char *title, const char *content,
                             const char *head)
{
    template_var vars[] = {{"title", title}, {"content", content}, {"head", head}};
    pg->c->html = template_render(pg->c->a, "layout.html", vars, 3);
    pg->c->html_status = status;
}

static void render(page *pg, int status, const char *title, const char *content)
{
    render_with_head(pg, status, title, content, NULL);
}

static void render_result(page *pg, int status, const char *heading, const char *message)
{
    template_var vars[] = {{"heading", heading}, {"message", message}};
    render(pg, status, heading, template_render(pg->c->a, "result.html", vars, 2));
}

static bool accepts(const store_connect_webview *cw, const char *name)
{
    return comma_list_has(cw->accepted_providers, name);
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

static const char *back_link(page *pg)
{
    const provider *list[16];
    return accepted(&pg->cw, list, 16) > 1
               ? arena_sprintf(pg->c->a, "<p><a href=\"%s\">Choose another brand</a></p>",
                               html_escape(pg->c->a, pg->action))
               : NULL;
}

static const char *error_html(arena *a, const char *error)
{
    return error ? arena_sprintf(a, "<p role=\"alert\" class=\"error\">%s</p>", html_escape(a, error))
                 : NULL;
}

/* A live provider's form: its fields, filled with what was sent before
 * (values, in the fields' order; NULL: the defaults), never a password. */
static void show_live_login(page *pg, const provider *p, const char *const *values,
                            const char *error)
{
    arena *a = pg->c->a;
    const char *fields = "";
    for (size_t i = 0; i < p->live->field_count; i++) {
        const live_field *f = &p->live->fields[i];
        bool secret = strcmp(f->type, "password") == 0;
        const char *value = values && !secret ? values[i] : f->default_value;
        fields = arena_sprintf(
            a, "%s<label for=\"f_%s\">%s</label>\n<input id=\"f_%s\" name=\"%s\" type=\"%s\"%s%s%s%s%s%s%s%s>\n",
            fields, f->name, html_escape(a, f->label), f->name, f->name, f->type,
            value ? " value=\"" : "", value ? html_escape(a, value) : "", value ? "\"" : "",
            f->placeholder ? " placeholder=\"" : "",
            f->placeholder ? html_escape(a, f->placeholder) : "", f->placeholder ? "\"" : "",
            secret ? " autocomplete=\"off\"" : "", f->required ? " required" : "");
    }
    template_var vars[] = {{"provider_display", p->display_name}, {"provider", p->name},
                           {"action", pg->action},            {"fields", fields},
                           {"error", error_html(a, error)},   {"back", back_link(pg)}};
    render(pg, 200, arena_sprintf(a, "Connect %s", p->display_name),
           template_render(a, "live_login.html", vars, sizeof vars / sizeof *vars));
}

static void show_login(page *pg, const provider *p, const char *username, const char *error)
{
    if (p->live) {
        show_live_login(pg, p, NULL, error);
        return;
    }
    arena *a = pg->c->a;
    const char *back = back_link(pg);
    const char *sandbox = NULL;
    if (pg->sandbox && p->sandbox_logins) {
        sandbox = "<div class=\"sandbox\"><p>Sandbox logins (password <code>1234</code>):</p><ul>";
        for (const char *const *l = p->sandbox_logins; *l; l++)
            sandbox = arena_sprintf(a, "%s<li><code>%s</code></li>", sandbox, html_escape(a, *l));
        sandbox = arena_sprintf(a, "%s</ul></div>", sandbox);
    }
    template_var vars[] = {{"provider_display", p->display_name}, {"provider", p->name},
                           {"action", pg->action},            {"username", username},
                           {"error", error_html(a, error)},   {"back", back},
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
    account_connection ac;
} connection;

static err connect_account(store *s, void *ctx)
{
    connection *cn = ctx;
    return accounts_connect(s, cn->pg->c->a, &cn->ac);
}

/* A live provider's form: the connection is asked for and made off the
 * HTTP threads by the links job; the page, reloaded, shows "connecting"
 * until it is made (or why not). */
static err handle_live_post(page *pg, const provider *p)
{
    api_call *c = pg->c;
    if (pg->cw.failed_logins >= MAX_FAILED_LOGINS)
        return fail(pg, "too_many_attempts");
    const char **values = arena_zalloc(c->a, (p->live->field_count + 1) * sizeof *values);
    for (size_t i = 0; i < p->live->field_count; i++)
        param_str(c->p, p->live->fields[i].name, &values[i]);
    const char *settings = NULL, *login = NULL, *why = NULL;
    if (!p->live->settings(c->a, values, &settings, &login, &why)) {
        show_live_login(pg, p, values, why);
        return ERR_NONE;
    }
    store_live_connect lc = {.connect_webview_id = pg->cw.connect_webview_id,
                             .provider = p->name, .login = login,
                             .settings_sealed = token_seal(c->a, &c->srv->keys, settings),
                             .created_at = c->now};
    err e = store_live_connect_request(c->srv->store, &lc);
    if (err_failed(e))
        return e;
    links_wake(c->srv->links);
    c->redirect = pg->action; /* a reload shows the state, and does not send the form again */
    return ERR_NONE;
}

/* While a live provider's connection is being made, or after it failed. */
static bool show_live_try(page *pg)
{
    store_live_connect lc;
    if (err_failed(store_live_connect_get(pg->c->srv->store, pg->c->a, pg->cw.connect_webview_id,
                                          &lc)))
        return false;
    const provider *p = provider_find(lc.provider);
    if (!p || !p->live)
        return false;
    if (!lc.settings_sealed) {
        show_live_login(pg, p, NULL, lc.error);
        return true;
    }
    arena *a = pg->c->a;
    template_var vars[] = {{"provider_display", p->display_name}, {"action", pg->action}};
    render_with_head(pg, 200, arena_sprintf(a, "Connecting to %s", p->display_name),
                     template_render(a, "connecting.html", vars, 2),
                     "<meta http-equiv=\"refresh\" content=\"1\">");
    return true;
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
    if (p->live)
        return handle_live_post(pg, p);
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
    connection cn = {pg, {.cw = &pg->cw, .p = p, .account = account, .now = pg->c->now}};
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
    if (show_live_try(&pg))
        return ERR_NONE;
    const provider *list[16];
    if (accepted(&pg.cw, list, 16) == 1)
        show_login(&pg, list[0], NULL, NULL);
    else
        show_picker(&pg);
    return ERR_NONE;
}
