/* Scope in SQL: what a client session (or an API key narrowed to one user)
 * may see and change, applied to every scoped read and write. */
#include "store/resource.h"

#define USER_SESSION                                                                       \
    "(SELECT client_session_id FROM client_sessions"                                       \
    " WHERE workspace_id = ? AND user_identifier_key = ?)"

#define SESSION_WEBVIEWS(session)                                                          \
    "SELECT connect_webview_id FROM client_session_connect_webviews"                      \
    " WHERE client_session_id = " session

void scope_append(sql_builder *b, const store_scope *scope, const char *alias,
                  scope_column column)
{
    sql_builder_appendf(b, " AND %s.workspace_id = ?", alias);
    sql_builder_bind_text(b, scope->workspace_id);
    const bool by_account = column == SCOPE_BY_ACCOUNT;
    const char *held = by_account ? "connected_account_id" : "connect_webview_id";
    const int uses = by_account ? 2 : 1; /* SESSION_ACCOUNTS names the session twice */
    if (scope->client_session_id) {
        sql_builder_appendf(b, " AND %s.%s IN (%s)", alias, held,
                            by_account ? SESSION_ACCOUNTS("?") : SESSION_WEBVIEWS("?"));
        for (int i = 0; i < uses; i++)
            sql_builder_bind_text(b, scope->client_session_id);
    }
    if (scope->user_identifier_key) {
        sql_builder_appendf(b, " AND %s.%s IN (%s)", alias, held,
                            by_account ? SESSION_ACCOUNTS(USER_SESSION)
                                       : SESSION_WEBVIEWS(USER_SESSION));
        for (int i = 0; i < uses; i++)
            sql_builder_bindf(b, "ss", scope->workspace_id, scope->user_identifier_key);
    }
}

void scope_append_write(sql_builder *b, const store_scope *scope, const db_table *t,
                        const char *id_column, scope_column column)
{
    sql_builder_appendf(b, " AND %s IN (SELECT in_scope.%s FROM %s in_scope WHERE TRUE", id_column,
                        id_column, t->name);
    scope_append(b, scope, "in_scope", column);
    sql_builder_append(b, ")");
}
