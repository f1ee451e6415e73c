/* Connect webviews: the pages through which an end user connects an account. */
#include "store/resource.h"

static const db_column WEBVIEW_COLUMNS[] = {
    DB_SEQ(store_connect_webview),
    DB_COLUMN(store_connect_webview, connect_webview_id, DB_TEXT),
    DB_COLUMN(store_connect_webview, workspace_id, DB_TEXT),
    DB_COLUMN(store_connect_webview, connected_account_id, DB_TEXT),
    DB_COLUMN(store_connect_webview, status, DB_TEXT),
    DB_COLUMN(store_connect_webview, auth_token_sealed, DB_TEXT),
    DB_COLUMN(store_connect_webview, accepted_providers, DB_TEXT),
    DB_COLUMN(store_connect_webview, custom_redirect_url, DB_TEXT),
    DB_COLUMN(store_connect_webview, custom_redirect_failure_url, DB_TEXT),
    DB_COLUMN(store_connect_webview, custom_metadata, DB_TEXT),
    DB_COLUMN(store_connect_webview, device_selection_mode, DB_TEXT),
    DB_COLUMN(store_connect_webview, selected_provider, DB_TEXT),
    DB_COLUMN(store_connect_webview, login_successful, DB_BOOL),
    DB_COLUMN(store_connect_webview, failed_logins, DB_INT),
    DB_COLUMN(store_connect_webview, error, DB_TEXT),
    DB_COLUMN(store_connect_webview, authorized_at, DB_INT0),
    DB_COLUMN(store_connect_webview, created_at, DB_INT),
    DB_COLUMN(store_connect_webview, customer_key, DB_TEXT),
    DB_COLUMN(store_connect_webview, accepted_capabilities, DB_TEXT),
};

static const db_table WEBVIEWS = {
    "connect_webviews", "cw", WEBVIEW_COLUMNS, DB_COUNT(WEBVIEW_COLUMNS),
    sizeof(store_connect_webview),
    {ERR_NOT_FOUND, "connect_webview_not_found", "Connect webview not found."},
};

err store_connect_webview_create(store *s, const store_connect_webview *cw)
{
    store_connect_webview row = *cw;
    if (!row.accepted_providers)
        row.accepted_providers = "";
    if (!row.device_selection_mode)
        row.device_selection_mode = "none";
    return db_insert(s->db, &WEBVIEWS, &row);
}

err store_connect_webview_get(store *s, arena *a, const store_scope *scope, const char *id,
                              store_connect_webview *out)
{
    return store_get(s, a, &WEBVIEWS, "connect_webview_id", id, scope, SCOPE_BY_WEBVIEW, out);
}

err store_connect_webview_for_page(store *s, arena *a, const char *id,
                                   store_connect_webview *out)
{
    return store_get(s, a, &WEBVIEWS, "connect_webview_id", id, NULL, SCOPE_BY_WEBVIEW, out);
}

err store_connect_webview_list(store *s, arena *a, const store_scope *scope,
                               const store_list_filter *f, const store_page *page,
                               store_connect_webview **out, size_t *count)
{
    static const char *const SEARCHED[] = {"cw.connect_webview_id", "cw.accepted_providers",
                                           "cw.custom_metadata", "cw.customer_key"};
    sql_builder b;
    db_select(&b, a, &WEBVIEWS);
    scope_append(&b, scope, "cw", SCOPE_BY_WEBVIEW);
    query_list_filter(&b, s->db, "cw", f, SEARCHED, sizeof SEARCHED / sizeof *SEARCHED);
    query_page(&b, "cw", page);
    return db_rows(s->db, a, &b, &WEBVIEWS, (void **)out, count);
}

err store_connect_webview_update(store *s, const store_connect_webview *cw)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE connect_webviews SET status = ?, connected_account_id = ?,"
                           " selected_provider = ?, login_successful = ?, error = ?,"
                           " authorized_at = ?"
                           " WHERE workspace_id = ? AND connect_webview_id = ? AND status = 'pending'");
    sql_builder_bindf(&b, "sssbs", cw->status, cw->connected_account_id, cw->selected_provider,
                      (int)cw->login_successful, cw->error);
    if (cw->authorized_at)
        sql_builder_bind_int(&b, cw->authorized_at);
    else
        sql_builder_bind_null(&b, SQL_INT);
    sql_builder_bindf(&b, "ss", cw->workspace_id, cw->connect_webview_id);
    err e = db_change(s->db, &b, &WEBVIEWS);
    arena_free(&a);
    return e;
}

err store_connect_webview_failed_login(store *s, const char *workspace_id, const char *id,
                                       int64_t *count)
{
    *count = -1;
    err e = db_intf(s->db, count,
                    "UPDATE connect_webviews SET failed_logins = failed_logins + 1"
                    " WHERE workspace_id = ? AND connect_webview_id = ? AND status = 'pending'"
                    " RETURNING failed_logins",
                    "ss", workspace_id, id);
    return err_failed(e) ? e : *count < 0 ? WEBVIEWS.not_found : ERR_NONE;
}

err store_connect_webview_delete(store *s, const store_scope *scope, const char *id)
{
    return store_delete(s, &WEBVIEWS, "connect_webview_id", id, scope, SCOPE_BY_WEBVIEW, NULL);
}
