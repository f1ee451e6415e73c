/* What a resource handler is given, and the handlers the router knows.
 * A handler reads its parameters, calls params_check before it acts, and
 * on success sets `out` to the response object (the pipeline adds "ok"). */
#ifndef LATCHKEY_HANDLER_H
#define LATCHKEY_HANDLER_H

#include <jansson.h>

#include "api/api.h"
#include "api/params.h"
#include "auth/auth.h"

typedef struct api_call {
    const api_server *srv;
    arena *a;
    const auth_ctx *auth;
    params *p;
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the route's path, e.g. "/devices/list" */
    int64_t now;
    json_t *out;
} api_call;

typedef err (*api_handler)(api_call *c);

/* The scope of the caller, narrowed to one user's client session when
 * user_identifier_key is not NULL. */
store_scope api_scope(const api_call *c, const char *user_identifier_key);
/* A stable text naming a scope, for binding cursors to it. */
const char *api_scope_key(const api_call *c, const store_scope *scope);

err health_get(api_call *c);
err workspaces_get(api_call *c);
err client_sessions_create(api_call *c);
err client_sessions_get_or_create(api_call *c);
err client_sessions_get(api_call *c);
err client_sessions_list(api_call *c);
err client_sessions_grant_access(api_call *c);
err client_sessions_revoke(api_call *c);
err client_sessions_delete(api_call *c);
err devices_get(api_call *c);
err devices_list(api_call *c);

#endif
