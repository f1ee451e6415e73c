/* The caller's scope for store calls (handler.h): the workspace, narrowed to
 * the caller's client session and, on request, to one user's session. */
#include "api/handler.h"

store_scope api_scope(const api_call *c, const char *user_identifier_key)
{
    store_scope scope = auth_scope(c->auth);
    scope.user_identifier_key = user_identifier_key;
    return scope;
}

const char *api_scope_key(const api_call *c, const store_scope *scope)
{
    return arena_sprintf(c->a, "%s|%s|%s", scope->workspace_id,
                         scope->client_session_id ? scope->client_session_id : "",
                         scope->user_identifier_key ? scope->user_identifier_key : "");
}
