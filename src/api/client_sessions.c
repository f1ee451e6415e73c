/* client_sessions/ routes: create, get_or_create, get, list, grant_access, revoke,
 * delete. A client session is one end user's credential; its token is shown
 * whenever the session is, so it is unsealed here for rendering. */
#include <string.h>

#include "api/handler.h"
#include "api/listing.h"
#include "api/render.h"
#include "core/ids.h"
#include "core/utf8.h"

typedef struct grant_params {
    store_client_session_grants grants;
    bool any; /* any grant parameter was given */
} grant_params;

/* Rejects the ids of `list` (parameter `key`) that are not in the workspace.
 * A failure of the store goes to *e, once: the checks after it are skipped. */
static void check_ids_exist(api_call *c, store_kind kind, const char *key, const str_list *list,
                            err *e)
{
    long missing = -1;
    if (err_failed(*e) ||
        err_failed(*e = store_first_missing(c->srv->store, kind, c->auth->workspace_id, list,
                                            &missing)))
        return;
    if (missing >= 0)
        param_reject(c->p, key, arena_sprintf(c->a, "%s was not found in this workspace",
                                              list->items[missing]));
}

/* connected_account_ids, connect_webview_ids, user_identity_id and the
 * deprecated one-element user_identity_ids, each checked to exist. */
static err read_grants(api_call *c, grant_params *g)
{
    memset(g, 0, sizeof *g);
    err e = ERR_NONE;
    store_client_session_grants *gr = &g->grants;
    if (param_str_list(c->p, "connected_account_ids", &gr->connected_account_ids)) {
        g->any = true;
        check_ids_exist(c, STORE_CONNECTED_ACCOUNT, "connected_account_ids",
                        &gr->connected_account_ids, &e);
    }
    if (param_str_list(c->p, "connect_webview_ids", &gr->connect_webview_ids)) {
        g->any = true;
        check_ids_exist(c, STORE_CONNECT_WEBVIEW, "connect_webview_ids", &gr->connect_webview_ids,
                        &e);
    }
    const char *identity = NULL;
    str_list identities;
    if (param_str_list(c->p, "user_identity_ids", &identities)) {
        if (identities.count != 1)
            param_reject(c->p, "user_identity_ids", "Array must contain exactly 1 element(s)");
        else
            identity = identities.items[0];
    }
    param_nonempty_str(c->p, "user_identity_id", &identity);
    if (identity) {
        g->any = true;
        gr->user_identity_id = identity;
        str_list one = {&gr->user_identity_id, 1};
        check_ids_exist(c, STORE_USER_IDENTITY, "user_identity_id", &one, &e);
    }
    return e;
}

/* The session with its token; NULL when the token cannot be unsealed
 * (sealed with another server secret). */
static json_t *render_session_row(api_call *c, const void *row)
{
    const store_client_session *cs = row;
    const char *token = token_unseal(c->a, &c->srv->keys, cs->token_sealed);
    return token ? render_client_session(cs, token) : NULL;
}

static err respond_session(api_call *c, const store_client_session *cs)
{
    json_t *session = render_session_row(c, cs);
    if (!session)
        return err_make(ERR_INTERNAL, "internal_error",
                        "The client session token cannot be unsealed with this server secret.");
    c->out = json_pack("{s:o}", "client_session", session);
    return ERR_NONE;
}

/* Reads the session named by id or user_identifier_key from the store (as
 * it is now) and renders it. */
static err respond_session_lookup(api_call *c, const char *id, const char *uik)
{
    store_client_session cs;
    err e = store_client_session_get(c->srv->store, c->a, c->auth->workspace_id, id, uik, &cs);
    return err_failed(e) ? e : respond_session(c, &cs);
}

/* The user_identifier_key of a create call: the body, or for a publishable
 * key the seam-user-identifier-key header. */
static const char *read_user_identifier_key(api_call *c)
{
    const char *uik = NULL;
    param_nonempty_str(c->p, "user_identifier_key", &uik);
    if (!uik && c->auth->kind == CRED_PUBLISHABLE_KEY && c->auth->user_identifier_key_header &&
        utf8_utf16_length(c->auth->user_identifier_key_header) > PARAM_MAX_TEXT) {
        param_reject(c->p, "user_identifier_key",
                     arena_sprintf(c->a, "The seam-user-identifier-key header has more than %d "
                                         "characters", PARAM_MAX_TEXT));
        return NULL;
    }
    if (!uik && c->auth->kind == CRED_PUBLISHABLE_KEY)
        uik = c->auth->user_identifier_key_header;
    return uik && *uik ? uik : NULL;
}

static void read_expires_at(api_call *c, int64_t *expires_at)
{
    if (param_time(c->p, "expires_at", expires_at) && *expires_at <= c->now)
        param_reject(c->p, "expires_at", "Must be in the future");
}

/* Rules for a publishable key: it names a user and grants nothing, not
 * even time: expires_at and customer_key are the API key's to set. */
static err check_publishable_key(api_call *c, const char *uik, const grant_params *g)
{
    if (c->auth->kind != CRED_PUBLISHABLE_KEY)
        return ERR_NONE;
    if (g->any || param_present(c->p, "expires_at") || param_present(c->p, "customer_key") ||
        param_present(c->p, "customer_id"))
        return err_make(ERR_FORBIDDEN, "publishable_keys_must_create_empty_client_sessions",
                        "A publishable key can only create a client session with no connected "
                        "accounts, connect webviews, user identity, customer key or expiry.");
    const char *header = c->auth->user_identifier_key_header;
    if (!uik && !(header && *header)) /* a header too long is invalid_input, below */
        return err_make(ERR_BAD_REQUEST, "missing_user_identifier_key",
                        "A publishable key needs a user_identifier_key (in the body or the "
                        "seam-user-identifier-key header).");
    return ERR_NONE;
}

/* Creates a session, optionally replacing a dead one of the same user;
 * sets *id_out to its id. */
static err insert_session(api_call *c, const char *uik, const char *customer_key,
                          int64_t expires_at, const store_client_session_grants *grants,
                          const char *replaces_id, const char **id_out)
{
    char *id = arena_alloc(c->a, UUID_STR_LEN);
    uuid_v4(id);
    const char *token = token_new_client_session(c->a);
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(&c->srv->keys, token, hash);
    store_client_session cs = {
        .client_session_id = id,
        .workspace_id = c->auth->workspace_id,
        .user_identifier_key = uik,
        .token_sealed = token_seal(c->a, &c->srv->keys, token),
        .user_identity_id = grants->user_identity_id,
        .customer_key = customer_key,
        .created_at = c->now,
        .expires_at = expires_at ? expires_at : c->now + c->srv->client_session_lifetime_ms,
    };
    *id_out = id;
    return store_client_session_create(c->srv->store, &cs, hash, grants, replaces_id);
}

static bool is_already_exists(err e)
{
    return e.type && strcmp(e.type, "client_session_token_already_exists") == 0;
}

err client_sessions_create(api_call *c)
{
    const char *uik = read_user_identifier_key(c);
    const char *customer_key = NULL;
    int64_t expires_at = 0;
    grant_params g;
    err e = read_grants(c, &g);
    /* latchkey knows a customer by its key alone (connect webviews and
     * accounts carry it), so customer_id names the same: the customer. */
    const char *customer_id = NULL;
    param_nonempty_str(c->p, "customer_key", &customer_key);
    if (param_nonempty_str(c->p, "customer_id", &customer_id) && customer_key &&
        strcmp(customer_id, customer_key) != 0)
        param_reject(c->p, "customer_id", "Give customer_key or customer_id, not two customers");
    if (!customer_key)
        customer_key = customer_id;
    read_expires_at(c, &expires_at);
    if (err_failed(e) || err_failed(e = check_publishable_key(c, uik, &g)) ||
        err_failed(e = params_check(c->p)))
        return e;
    const char *id;
    e = insert_session(c, uik, customer_key, expires_at, &g.grants, NULL, &id);
    /* PUT is idempotent per user: it answers with the session that exists. */
    if (is_already_exists(e) && strcmp(c->method, "PUT") == 0)
        return respond_session_lookup(c, NULL, uik);
    return err_failed(e) ? e : respond_session_lookup(c, id, NULL);
}

err client_sessions_get_or_create(api_call *c)
{
    const char *uik = read_user_identifier_key(c);
    int64_t expires_at = 0;
    grant_params g;
    err e = read_grants(c, &g);
    read_expires_at(c, &expires_at);
    if (err_failed(e) || err_failed(e = check_publishable_key(c, uik, &g)) ||
        err_failed(e = params_check(c->p)))
        return e;
    store_client_session existing;
    bool found = false;
    if (uik) {
        e = store_client_session_get(c->srv->store, c->a, c->auth->workspace_id, NULL, uik,
                                     &existing);
        if (err_failed(e) && !store_not_found(e))
            return e;
        found = !err_failed(e);
    }
    const char *id;
    bool live = found && !existing.revoked_at && existing.expires_at > c->now;
    if (found && !live && c->auth->kind == CRED_PUBLISHABLE_KEY)
        /* Revocation and expiry are final until the API key says otherwise. */
        return existing.revoked_at
                   ? err_make(ERR_FORBIDDEN, "client_session_revoked",
                              "This user's client session was revoked; only the API key can "
                              "issue a new one.")
                   : err_make(ERR_FORBIDDEN, "client_session_expired",
                              "This user's client session has expired; only the API key can "
                              "issue a new one.");
    if (live) {
        /* A live session: it gains what was asked for, and the new expiry. */
        id = existing.client_session_id;
        if (err_failed(e = store_client_session_grant(c->srv->store, c->auth->workspace_id, id,
                                                      &g.grants, expires_at)))
            return e;
    } else {
        /* None, or a revoked or expired one: a fresh session (keeping what
         * the dead one held) so the caller gets a token that works. */
        e = insert_session(c, uik, found ? existing.customer_key : NULL, expires_at, &g.grants,
                           found ? existing.client_session_id : NULL, &id);
        if (is_already_exists(e)) /* created concurrently: use that one */
            return respond_session_lookup(c, NULL, uik);
        if (err_failed(e))
            return e;
    }
    return respond_session_lookup(c, id, NULL);
}

err client_sessions_get(api_call *c)
{
    const char *id = NULL, *uik = NULL;
    if (c->auth->kind == CRED_CLIENT_SESSION) {
        /* A token sees its own session; naming another one finds nothing. */
        const store_client_session *own = c->auth->session;
        param_nonempty_str(c->p, "client_session_id", &id);
        param_nonempty_str(c->p, "user_identifier_key", &uik);
        err e = params_check(c->p);
        if (err_failed(e))
            return e;
        if ((id && strcmp(id, own->client_session_id) != 0) ||
            (uik && (!own->user_identifier_key || strcmp(uik, own->user_identifier_key) != 0)))
            return err_make(ERR_NOT_FOUND, "client_session_not_found",
                            "Client session not found.");
        return respond_session_lookup(c, own->client_session_id, NULL);
    }
    param_either(c->p, "client_session_id", &id, "user_identifier_key", &uik);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    return respond_session_lookup(c, id, uik);
}

err client_sessions_list(api_call *c)
{
    listing l;
    listing_init(&l, c);
    store_client_session_filter f = {0};
    const struct {
        const char *key;
        const char **value;
    } filters[] = {
        {"client_session_id", &f.client_session_id},
        {"user_identifier_key", &f.user_identifier_key},
        {"connect_webview_id", &f.connect_webview_id},
        {"user_identity_id", &f.user_identity_id},
    };
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (param_str(c->p, filters[i].key, filters[i].value))
            page_filters_add(&l.filters, filters[i].key, *filters[i].value);
    if (param_bool(c->p, "without_user_identifier_key", &f.without_user_identifier_key))
        page_filters_add(&l.filters, "without_user_identifier_key",
                         f.without_user_identifier_key ? "true" : "false");
    store_scope scope = api_scope(c, NULL);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    if (err_failed(e))
        return e;
    store_client_session *rows = NULL;
    size_t n = 0;
    e = store_client_session_list(c->srv->store, c->a, c->auth->workspace_id, &f, &sp, &rows, &n);
    return err_failed(e) ? e : listing_respond(&l, c, "client_sessions", rows, n, sizeof *rows,
                                               render_session_row);
}

err client_sessions_grant_access(api_call *c)
{
    const char *id, *uik;
    param_either(c->p, "client_session_id", &id, "user_identifier_key", &uik);
    grant_params g;
    err e = read_grants(c, &g);
    if (err_failed(e) || err_failed(e = params_check(c->p)))
        return e;
    store_client_session cs;
    if (err_failed(e = store_client_session_get(c->srv->store, c->a, c->auth->workspace_id, id,
                                                uik, &cs)) ||
        err_failed(e = store_client_session_grant(c->srv->store, c->auth->workspace_id,
                                                  cs.client_session_id, &g.grants, 0)))
        return e;
    return respond_session_lookup(c, cs.client_session_id, NULL);
}

err client_sessions_revoke(api_call *c)
{
    const char *id = param_required_str(c->p, "client_session_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    return store_client_session_revoke(c->srv->store, c->auth->workspace_id, id, c->now);
}

err client_sessions_delete(api_call *c)
{
    const char *id = param_required_str(c->p, "client_session_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_event ev = {.workspace_id = c->auth->workspace_id,
                      .event_type = "client_session.deleted", .client_session_id = id};
    return store_client_session_delete(c->srv->store, c->auth->workspace_id, id, &ev);
}
