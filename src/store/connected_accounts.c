/* Connected accounts: a login at a provider, the devices that come with it. */
#include "store/resource.h"

static const db_column ACCOUNT_COLUMNS[] = {
    DB_SEQ(store_connected_account),
    DB_COLUMN(store_connected_account, connected_account_id, DB_TEXT),
    DB_COLUMN(store_connected_account, workspace_id, DB_TEXT),
    DB_COLUMN(store_connected_account, provider, DB_TEXT),
    DB_COLUMN(store_connected_account, user_email, DB_TEXT),
    DB_COLUMN(store_connected_account, provider_login, DB_TEXT),
    DB_COLUMN(store_connected_account, display_name, DB_TEXT),
    DB_COLUMN(store_connected_account, custom_metadata, DB_TEXT),
    DB_COLUMN(store_connected_account, created_at, DB_INT),
    DB_COLUMN(store_connected_account, settings_sealed, DB_TEXT),
    DB_COLUMN(store_connected_account, error_code, DB_TEXT),
    DB_COLUMN(store_connected_account, error_message, DB_TEXT),
    DB_COLUMN(store_connected_account, error_at, DB_INT0),
    DB_COLUMN(store_connected_account, customer_key, DB_TEXT),
    DB_COLUMN(store_connected_account, accepted_capabilities, DB_TEXT),
};

static const db_table ACCOUNTS = {
    "connected_accounts", "ca", ACCOUNT_COLUMNS, DB_COUNT(ACCOUNT_COLUMNS),
    sizeof(store_connected_account),
    {ERR_NOT_FOUND, "connected_account_not_found", "Connected account not found."},
};

err store_connected_account_create(store *s, const store_connected_account *ca)
{
    return db_insert(s->db, &ACCOUNTS, ca);
}

err store_connected_account_connect(store *s, arena *a, store_connected_account *ca,
                                    bool *created)
{
    sql_builder b;
    db_insert_sql(&b, a, &ACCOUNTS, ca);
    sql_builder_append(&b, " ON CONFLICT (workspace_id, provider, provider_login)"
                           " WHERE provider_login IS NOT NULL DO NOTHING"
                           " RETURNING connected_account_id");
    db_text_out inserted = {a, NULL};
    err e = db_query(s->db, &b, db_read_text, &inserted);
    if (err_failed(e))
        return e;
    *created = inserted.value != NULL;
    if (*created)
        return ERR_NONE;
    /* Another one had it first: that account is the one. */
    db_select(&b, a, &ACCOUNTS);
    query_eq(&b, "ca.workspace_id", ca->workspace_id);
    query_eq(&b, "ca.provider", ca->provider);
    query_eq(&b, "ca.provider_login", ca->provider_login);
    return db_one(s->db, a, &b, &ACCOUNTS, ca);
}

err store_connected_account_get(store *s, arena *a, const store_scope *scope, const char *id,
                                const char *email, bool for_update, store_connected_account *out)
{
    if (!id && !email)
        return ACCOUNTS.not_found;
    sql_builder b;
    db_select(&b, a, &ACCOUNTS);
    scope_append(&b, scope, "ca", SCOPE_BY_ACCOUNT);
    query_eq(&b, "ca.connected_account_id", id);
    if (!id)
        query_eq(&b, "ca.user_email", email);
    sql_builder_append(&b, " ORDER BY ca.seq LIMIT 1");
    if (for_update)
        sql_builder_append(&b, dialect_lock_rows(s->db));
    return db_one(s->db, a, &b, &ACCOUNTS, out);
}

err store_connected_account_list(store *s, arena *a, const store_scope *scope,
                                 const store_list_filter *f, const store_page *page,
                                 store_connected_account **out, size_t *count)
{
    static const char *const SEARCHED[] = {"ca.connected_account_id", "ca.provider",
                                           "ca.customer_key", "ca.custom_metadata",
                                           "ca.user_email"};
    sql_builder b;
    db_select(&b, a, &ACCOUNTS);
    scope_append(&b, scope, "ca", SCOPE_BY_ACCOUNT);
    query_list_filter(&b, s->db, "ca", f, SEARCHED, sizeof SEARCHED / sizeof *SEARCHED);
    query_page(&b, "ca", page);
    return db_rows(s->db, a, &b, &ACCOUNTS, (void **)out, count);
}

err store_connected_account_update(store *s, const store_scope *scope, const char *id,
                                   const char *display_name, const char *custom_metadata,
                                   const char *accepted_capabilities)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE connected_accounts SET display_name = COALESCE(?, display_name),"
                           " custom_metadata = COALESCE(?, custom_metadata),"
                           " accepted_capabilities = COALESCE(?, accepted_capabilities)"
                           " WHERE connected_account_id = ?");
    sql_builder_bindf(&b, "ssss", display_name, custom_metadata, accepted_capabilities, id);
    scope_append_write(&b, scope, &ACCOUNTS, "connected_account_id", SCOPE_BY_ACCOUNT);
    err e = db_change(s->db, &b, &ACCOUNTS);
    arena_free(&a);
    return e;
}

err store_connected_account_delete(store *s, const store_scope *scope, const char *id,
                                   const store_event *ev)
{
    return store_delete(s, &ACCOUNTS, "connected_account_id", id, scope, SCOPE_BY_ACCOUNT, ev);
}

err store_connected_accounts_linked(store *s, arena *a, const char *owner,
                                    store_connected_account **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &ACCOUNTS);
    sql_builder_append(&b, " AND ca.connected_account_id IN (SELECT connected_account_id"
                           " FROM provider_links WHERE owner = ?) ORDER BY ca.seq");
    sql_builder_bind_text(&b, owner);
    return db_rows(s->db, a, &b, &ACCOUNTS, (void **)out, count);
}

err store_connected_account_set_error(store *s, const char *id, const char *code,
                                      const char *message, int64_t at, bool *changed)
{
    int64_t n = 0;
    err e = db_execf(s->db, &n,
                     "UPDATE connected_accounts SET error_code = ?, error_message = ?, error_at = ?"
                     " WHERE connected_account_id = ? AND (error_code IS NULL) <> (? IS NULL)",
                     "ssiss", code, code ? message : NULL, code ? at : (int64_t)0, id, code);
    *changed = n > 0;
    if (err_failed(e) || n > 0 || !code)
        return e;
    /* Still down, for another reason now (a refused login after a lost
     * connection): the message follows, the error's time stays. */
    return db_execf(s->db, NULL,
                    "UPDATE connected_accounts SET error_code = ?, error_message = ?"
                    " WHERE connected_account_id = ? AND error_message IS DISTINCT FROM ?",
                    "ssss", code, message, id, message);
}

err store_connected_account_set_settings(store *s, const char *id, const char *settings_sealed)
{
    return db_changef(s->db, &ACCOUNTS,
                      "UPDATE connected_accounts SET settings_sealed = ? WHERE connected_account_id = ?",
                      "ss", settings_sealed, id);
}

err store_connected_account_set_customer(store *s, const char *id, const char *customer_key)
{
    return db_changef(s->db, &ACCOUNTS,
                      "UPDATE connected_accounts SET customer_key = ?"
                      " WHERE connected_account_id = ? AND customer_key IS NULL",
                      "ss", customer_key, id);
}
