/* The request pipeline: route -> authenticate -> parameters -> handler ->
 * JSON response, with every failure rendered once in the API error shape. */
#include "api/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cache.h"
#include "api/handler.h"
#include "api/params.h"
#include "api/respond.h"
#include "api/router.h"
#include "core/timeutil.h"
#include "core/utf8.h"

static bool is_form(const api_request *req)
{
    return req->content_type &&
           strncmp(req->content_type, "application/x-www-form-urlencoded", 33) == 0;
}

static bool text_ok(const char *s) { return !s || utf8_valid(s, strlen(s)); }

/* Names the first of the pairs whose name or value is not UTF-8, without
 * echoing it; NULL when all are. */
static const char *bad_pair(arena *a, const api_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!text_ok(kv[i].key) || !text_ok(kv[i].value))
            return text_ok(kv[i].key) ? arena_sprintf(a, "The value of parameter '%s'", kv[i].key)
                                      : "A parameter name";
    return NULL;
}

static err not_utf8(arena *a, const char *what)
{
    return err_make(ERR_BAD_REQUEST, "invalid_input",
                    arena_sprintf(a, "%s is not valid UTF-8.", what));
}

/* The request's texts must be UTF-8 before any of them reaches a handler,
 * the store or a JSON answer (JSON bodies: jansson checks them; form
 * bodies: read_page_params). */
static err check_texts(const api_request *req)
{
    const char *bad = text_ok(req->path) ? bad_pair(req->a, req->query, req->nquery) : "The path";
    const auth_headers *h = &req->creds;
    const char *headers[] = {h->authorization, h->client_session_token,
                             h->seam_client_session_token, h->publishable_key,
                             h->user_identifier_key};
    for (size_t i = 0; !bad && i < sizeof headers / sizeof *headers; i++)
        if (!text_ok(headers[i]))
            bad = "A credential header";
    return bad ? not_utf8(req->a, bad) : ERR_NONE;
}

/* A page's parameters: the query string and the posted form, together. */
static params *read_page_params(const api_request *req, err *e)
{
    size_t n = req->nquery, cap = req->nquery;
    api_kv *kv = arena_alloc(req->a, (cap ? cap : 1) * sizeof *kv);
    if (n)
        memcpy(kv, req->query, n * sizeof *kv);
    if (is_form(req)) {
        size_t from = n;
        form_decode(req->a, req->body, req->body_len, &kv, &n, &cap);
        const char *bad = bad_pair(req->a, kv + from, n - from);
        if (bad) {
            *e = not_utf8(req->a, bad);
            return NULL;
        }
    }
    return params_from_query(req->a, kv, n);
}

/* No parameter of the API nests deeper than a few levels; a body that does
 * is refused before jansson's recursive parser spends stack on it. */
enum { JSON_MAX_DEPTH = 32 };

static bool json_depth_ok(const char *s, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > JSON_MAX_DEPTH)
                return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

/* The parameters of the request: the query string for GET, and for DELETE
 * without a body (as the OpenAPI declares them); a JSON body otherwise.
 * *body_out owns the parsed body. */
static params *read_params(const api_request *req, json_t **body_out, err *e)
{
    *body_out = NULL;
    if (strcmp(req->method, "GET") == 0 || (strcmp(req->method, "DELETE") == 0 && req->body_len == 0))
        return params_from_query(req->a, req->query, req->nquery);
    json_t *body;
    if (req->body_len == 0) {
        body = json_object();
    } else if (!json_depth_ok(req->body, req->body_len)) {
        *e = err_make(ERR_BAD_REQUEST, "invalid_input",
                      arena_sprintf(req->a, "The request body nests more than %d levels deep.",
                                    JSON_MAX_DEPTH));
        return NULL;
    } else {
        json_error_t jerr;
        body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!body) {
            *e = err_make(ERR_BAD_REQUEST, "invalid_input",
                          arena_sprintf(req->a, "The request body is not valid JSON: %s (line %d)",
                                        jerr.text, jerr.line));
            return NULL;
        }
        if (!json_is_object(body)) {
            json_decref(body);
            *e = err_make(ERR_BAD_REQUEST, "invalid_input",
                          "The request body must be a JSON object.");
            return NULL;
        }
    }
    *body_out = body;
    return params_from_json(req->a, body);
}

static err check_credential(const route *r, const auth_ctx *auth, arena *a)
{
    if (r->creds & auth->kind)
        return ERR_NONE;
    return err_make(ERR_FORBIDDEN, "forbidden",
                    arena_sprintf(a, "%s cannot be used on %s.", cred_kind_name(auth->kind),
                                  r->path));
}

/* What serving a request needs, through a read snapshot when its route
 * only reads. */
typedef struct serving {
    const route *r;
    const api_request *req;
    api_call *c;
    auth_ctx *auth;    /* c->auth, to fill */
    json_t *body;      /* the parsed JSON body, if any */
    int64_t generation; /* of the workspace, on the snapshot the answer was read on */
} serving;

/* Authenticates, reads the parameters and runs the handler; an error
 * before the parameters were read leaves c->p NULL. */
static err serve(store *s, void *ctx)
{
    serving *sv = ctx;
    api_call *c = sv->c;
    const route *r = sv->r;
    const api_request *req = sv->req;
    err e = ERR_NONE;
    if (r->creds) {
        e = auth_resolve(s, &c->srv->keys, req->a, &req->creds, c->now, sv->auth);
        if (!err_failed(e))
            e = check_credential(r, c->auth, req->a);
        if (err_failed(e))
            return e;
    }
    c->p = r->page ? read_page_params(req, &e) : read_params(req, &sv->body, &e);
    if (!c->p)
        return e;
    e = r->handler(c);
    /* A handler that succeeded must have checked its parameters. */
    if (!err_failed(e) && !r->page && err_failed(params_check(c->p))) {
        fprintf(stderr, "latchkey: %s did not check its parameters\n", r->path);
        e = err_make(ERR_INTERNAL, "internal_error", "Parameters were not checked.");
    }
    if (!err_failed(e) && r->reads && c->srv->cache)
        e = store_workspace_generation(s, c->auth->workspace_id, &sv->generation);
    return e;
}

/* The name of a read-only request's answer: everything in the request the
 * answer depends on (the credential headers decide who asks). */
static void answer_name(const api_server *srv, const api_request *req, const route *r,
                        unsigned char key[TOKEN_DIGEST_LEN])
{
    const auth_headers *h = &req->creds;
    const char *fixed[] = {req->method, r->path, h->authorization, h->client_session_token,
                           h->seam_client_session_token, h->publishable_key,
                           h->user_identifier_key, req->content_type};
    enum { FIXED = sizeof fixed / sizeof *fixed };
    size_t n = FIXED + 2 * req->nquery + 1;
    token_part *parts = arena_alloc(req->a, n * sizeof *parts), *p = parts;
    for (size_t i = 0; i < FIXED; i++, p++)
        *p = (token_part){fixed[i], fixed[i] ? strlen(fixed[i]) : 0};
    for (size_t i = 0; i < req->nquery; i++) {
        *p++ = (token_part){req->query[i].key, strlen(req->query[i].key)};
        *p++ = (token_part){req->query[i].value, strlen(req->query[i].value)};
    }
    *p = (token_part){req->body ? req->body : "", req->body ? req->body_len : 0};
    token_digest(&srv->keys, parts, n, key);
}

/* The kept answer named key, when its workspace has not changed since it
 * was read and the credential that asked has not expired. */
static bool answer_kept(const api_server *srv, const unsigned char *key, int64_t now,
                        api_response *res)
{
    answer a;
    if (!answer_cache_get(srv->cache, key, &a))
        return false;
    int64_t generation;
    if (a.expires_at <= now ||
        err_failed(store_workspace_generation(srv->store, a.workspace_id, &generation)) ||
        generation != a.generation) {
        free(a.body);
        return false;
    }
    res->status = 200;
    res->content_type = RESPOND_JSON_TYPE;
    res->body = a.body;
    res->body_len = a.body_len;
    return true;
}

static void keep_answer(const api_server *srv, const unsigned char *key, const auth_ctx *auth,
                        int64_t generation, const api_response *res)
{
    answer a = {.generation = generation,
                .expires_at = auth->kind == CRED_CLIENT_SESSION ? auth->session->expires_at
                                                                 : INT64_MAX,
                .body = res->body, .body_len = res->body_len};
    if (snprintf(a.workspace_id, sizeof a.workspace_id, "%s", auth->workspace_id) <
        (int)sizeof a.workspace_id)
        answer_cache_put(srv->cache, key, &a);
}

void api_handle(const api_server *srv, const api_request *req, api_response *res)
{
    memset(res, 0, sizeof *res);
    /* Browsers may read answers given to client session tokens and
     * publishable keys; never those given to an API key. */
    const char *credential = auth_credential(&req->creds);
    res->cors = !(credential && token_classify(credential) == TOKEN_API_KEY);
    err e = check_texts(req);
    if (err_failed(e)) {
        respond_error(res, e, NULL);
        return;
    }
    const route *r = router_find(req->path);
    if (!r) {
        respond_error(res, err_make(ERR_NOT_FOUND, "not_found",
                                    arena_sprintf(req->a, "No route %s.", req->path)), NULL);
        return;
    }
    if (!(router_method_bit(req->method) & r->methods)) {
        const char *allow = router_allow_header(req->a, r->methods);
        respond_header(res, "Allow", allow);
        respond_error(res, err_make(ERR_METHOD, "method_not_allowed",
                                    arena_sprintf(req->a, "%s takes %s.", r->path, allow)), NULL);
        return;
    }
    auth_ctx auth = {0};
    api_call c = {.srv = srv, .a = req->a, .method = req->method, .path = r->path,
                  .now = time_now_ms(), .auth = &auth};
    const bool cached = r->reads && srv->cache;
    unsigned char key[TOKEN_DIGEST_LEN];
    if (cached) {
        answer_name(srv, req, r, key);
        if (answer_kept(srv, key, c.now, res))
            return;
    }
    serving sv = {.r = r, .req = req, .c = &c, .auth = &auth};
    e = r->reads ? store_read(srv->store, serve, &sv) : serve(srv->store, &sv);
    if (err_failed(e)) {
        json_decref(c.out);
        respond_error(res, e, c.p);
    } else if (c.wait.action_attempt_id) {
        res->wait = c.wait;
    } else if (r->page) {
        respond_page(res, &c);
    } else {
        json_t *out = c.out ? c.out : json_object();
        json_object_set_new(out, "ok", json_true());
        respond_json(res, 200, out);
        if (cached && res->status == 200)
            keep_answer(srv, key, &auth, sv.generation, res);
    }
    if (c.p)
        params_free(c.p);
    json_decref(sv.body);
}
