/* Credential resolution (auth.h): API keys and client session tokens by
 * keyed hash, publishable keys by value. */
#include "auth/auth.h"

#include <string.h>
#include <strings.h>

static const char *bearer(const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return *t ? t : NULL;
}

static err unauthorized(const char *type, const char *message)
{
    return err_make(ERR_UNAUTHORIZED, type, message);
}

/* A failed lookup of a credential: unauthorized when the store does not know
 * it, the store's own failure otherwise. */
static err unknown_credential(err e, const char *type, const char *message)
{
    return store_not_found(e) ? unauthorized(type, message) : e;
}

static err resolve_api_key(store *s, const token_keys *keys, arena *a, const char *token,
                           auth_ctx *out)
{
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(keys, token, hash);
    err e = store_api_key_lookup(s, a, hash, &out->workspace_id);
    if (err_failed(e))
        return unknown_credential(e, "invalid_api_key", "The API key is not valid.");
    out->kind = CRED_API_KEY;
    return ERR_NONE;
}

static err resolve_client_session(store *s, const token_keys *keys, arena *a, const char *token,
                                  int64_t now, auth_ctx *out)
{
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(keys, token, hash);
    store_client_session *cs = arena_zalloc(a, sizeof *cs);
    err e = store_client_session_by_token_hash(s, a, hash, cs);
    if (err_failed(e))
        return unknown_credential(e, "client_session_not_found",
                                  "The client session token does not match a client session.");
    if (cs->revoked_at)
        return unauthorized("client_session_revoked", "The client session has been revoked.");
    if (cs->expires_at <= now)
        return unauthorized("client_session_expired", "The client session has expired.");
    out->kind = CRED_CLIENT_SESSION;
    out->workspace_id = cs->workspace_id;
    out->session = cs;
    return ERR_NONE;
}

static err resolve_publishable_key(store *s, arena *a, const char *key, const auth_headers *h,
                                   auth_ctx *out)
{
    store_workspace w;
    err e = store_workspace_by_publishable_key(s, a, key, &w);
    if (err_failed(e))
        return unknown_credential(e, "invalid_publishable_key",
                                  "The publishable key is not valid.");
    out->kind = CRED_PUBLISHABLE_KEY;
    out->workspace_id = w.workspace_id;
    out->user_identifier_key_header = h->user_identifier_key;
    return ERR_NONE;
}

/* A credential header, the value it carries and the kinds it may carry. */
typedef struct presented {
    const char *header;
    const char *token;
    unsigned kinds; /* cred_kind bits */
} presented;

static cred_kind cred_kind_of(token_kind t)
{
    switch (t) {
    case TOKEN_API_KEY: return CRED_API_KEY;
    case TOKEN_CLIENT_SESSION: return CRED_CLIENT_SESSION;
    case TOKEN_PUBLISHABLE_KEY: return CRED_PUBLISHABLE_KEY;
    case TOKEN_MALFORMED: break;
    }
    return CRED_NONE;
}

/* The credential headers in precedence order; returns how many carry a value. */
static size_t presented_credentials(const auth_headers *h, presented out[4])
{
    const presented all[] = {
        {"Authorization: Bearer", bearer(h->authorization), CRED_API_KEY | CRED_CLIENT_SESSION},
        {"client-session-token", h->client_session_token, CRED_CLIENT_SESSION},
        {"seam-client-session-token", h->seam_client_session_token, CRED_CLIENT_SESSION},
        {"seam-publishable-key", h->publishable_key, CRED_PUBLISHABLE_KEY},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i].token && *all[i].token)
            out[n++] = all[i];
    return n;
}

const char *auth_credential(const auth_headers *h)
{
    presented p[4];
    return presented_credentials(h, p) ? p[0].token : NULL;
}

err auth_resolve(store *s, const token_keys *keys, arena *a, const auth_headers *h, int64_t now,
                 auth_ctx *out)
{
    memset(out, 0, sizeof *out);
    presented p[4];
    size_t n = presented_credentials(h, p);
    if (n == 0)
        return unauthorized("unauthorized",
                            "No credential: send an API key or client session token as "
                            "'Authorization: Bearer ...', or a publishable key as "
                            "'seam-publishable-key'.");
    /* The SDKs send a client session token in two headers; two different
     * credentials are never meant. */
    for (size_t i = 1; i < n; i++)
        if (strcmp(p[i].token, p[0].token) != 0)
            return unauthorized("unauthorized",
                                "Different credentials were sent in several headers: send one.");
    token_kind kind = token_classify(p[0].token);
    for (size_t i = 0; i < n; i++)
        if (kind != TOKEN_MALFORMED && !(p[i].kinds & cred_kind_of(kind)))
            return unauthorized("unauthorized",
                                arena_sprintf(a, "The %s header does not take %s.", p[i].header,
                                              cred_kind_name(cred_kind_of(kind))));
    switch (kind) {
    case TOKEN_API_KEY:
        return resolve_api_key(s, keys, a, p[0].token, out);
    case TOKEN_CLIENT_SESSION:
        return resolve_client_session(s, keys, a, p[0].token, now, out);
    case TOKEN_PUBLISHABLE_KEY:
        return resolve_publishable_key(s, a, p[0].token, h, out);
    case TOKEN_MALFORMED:
        break;
    }
    return unauthorized("unauthorized", "The credential is not in a format latchkey accepts.");
}

store_scope auth_scope(const auth_ctx *ctx)
{
    store_scope scope = {.workspace_id = ctx->workspace_id};
    if (ctx->kind == CRED_CLIENT_SESSION)
        scope.client_session_id = ctx->session->client_session_id;
    return scope;
}

const char *cred_kind_name(cred_kind kind)
{
    switch (kind) {
    case CRED_API_KEY: return "an API key";
    case CRED_CLIENT_SESSION: return "a client session token";
    case CRED_PUBLISHABLE_KEY: return "a publishable key";
    case CRED_NONE: break;
    }
    return "no credential";
}
