/* User identities: the app's own record of an end user. */

#include "store/resource.h"

static const db_column IDENTITY_COLUMNS[] = {
    DB_SEQ(store_user_identity),
    DB_COLUMN(store_user_identity, user_identity_id, DB_TEXT),
    DB_COLUMN(store_user_identity, workspace_id, DB_TEXT),
    DB_COLUMN(store_user_identity, user_identity_key, DB_TEXT),
    DB_COLUMN(store_user_identity, email_address, DB_TEXT),
    DB_COLUMN(store_user_identity, phone_number, DB_TEXT),
    DB_COLUMN(store_user_identity, full_name, DB_TEXT),
    DB_COLUMN(store_user_identity, created_at, DB_INT),
};

static const db_table IDENTITIES = {
    "user_identities", "ui", IDENTITY_COLUMNS, DB_COUNT(IDENTITY_COLUMNS),
    sizeof(store_user_identity),
    {ERR_NOT_FOUND, "user_identity_not_found", "User identity not found."},
};

/* A unique violation on the identity key becomes its own error. */
static err key_conflict(store *s, err e)
{
    return store_conflict(
        s, e, "user_identities_key",
        err_make(ERR_BAD_REQUEST, "user_identity_key_already_exists",
                 "Another user identity in this workspace has this user_identity_key."));
}

typedef struct identity_write {
    store *s;
    const store_user_identity *ui;
    bool update;
} identity_write;

static err write_identity(void *p)
{
    identity_write *w = p;
    const store_user_identity *ui = w->ui;
    if (!w->update)
        return key_conflict(w->s, db_insert(w->s->db, &IDENTITIES, ui));
    return key_conflict(
        w->s, db_changef(w->s->db, &IDENTITIES,
                         "UPDATE user_identities SET user_identity_key = ?, email_address = ?,"
                         " phone_number = ?, full_name = ?"
                         " WHERE workspace_id = ? AND user_identity_id = ?",
                         "ssssss", ui->user_identity_key, ui->email_address, ui->phone_number,
                         ui->full_name, ui->workspace_id, ui->user_identity_id));
}

/* In a transaction of its own, or a savepoint inside the caller's: a caller
 * that handles the key conflict keeps the rest of its transaction (on
 * PostgreSQL a failed statement would otherwise abort all of it). */
static err identity_write_atomic(store *s, const store_user_identity *ui, bool update)
{
    identity_write w = {s, ui, update};
    return db_transaction(s->db, write_identity, &w);
}

err store_user_identity_create(store *s, const store_user_identity *ui)
{
    return identity_write_atomic(s, ui, false);
}

err store_user_identity_get(store *s, arena *a, const char *workspace_id, const char *id,
                            const char *key, store_user_identity *out)
{
    if (!id && !key)
        return IDENTITIES.not_found;
    sql_builder b;
    db_select(&b, a, &IDENTITIES);
    query_eq(&b, "ui.workspace_id", workspace_id);
    query_eq(&b, "ui.user_identity_id", id);
    if (!id)
        query_eq(&b, "ui.user_identity_key", key);
    return db_one(s->db, a, &b, &IDENTITIES, out);
}

err store_user_identity_list(store *s, arena *a, const char *workspace_id,
                             const store_user_identity_filter *f, const store_page *page,
                             store_user_identity **out, size_t *count)
{
    static const char *const SEARCHED[] = {"ui.user_identity_key", "ui.email_address",
                                           "ui.phone_number", "ui.full_name"};
    sql_builder b;
    db_select(&b, a, &IDENTITIES);
    query_eq(&b, "ui.workspace_id", workspace_id);
    query_in(&b, "ui.user_identity_id", f->ids);
    if (f->none)
        sql_builder_append(&b, " AND FALSE");
    if (f->search)
        dialect_search(&b, s->db, SEARCHED, DB_COUNT(SEARCHED), NULL, f->search);
    query_before(&b, "ui.created_at", f->created_before);
    query_page(&b, "ui", page);
    return db_rows(s->db, a, &b, &IDENTITIES, (void **)out, count);
}

err store_user_identity_update(store *s, const store_user_identity *ui)
{
    return identity_write_atomic(s, ui, true);
}

err store_user_identity_delete(store *s, const char *workspace_id, const char *id)
{
    store_scope scope = {.workspace_id = workspace_id};
    return store_delete(s, &IDENTITIES, "user_identity_id", id, &scope, SCOPE_BY_ACCOUNT, NULL);
}
