/* The store: a database opened by URL, transactions for the handlers, and
 * the writes every resource shares. */
#include <stdlib.h>
#include <string.h>

#include "store/resource.h"

store *store_open(const char *url, err *e)
{
    store *s = calloc(1, sizeof *s);
    if (!s) {
        *e = err_make(ERR_INTERNAL, "internal_error", "Out of memory.");
        return NULL;
    }
    if (!(s->generations = store_generations_new())) {
        free(s);
        *e = err_make(ERR_INTERNAL, "internal_error", "Out of memory.");
        return NULL;
    }
    if (!(s->db = db_open(url, e))) {
        store_generations_free(s->generations);
        free(s);
        return NULL;
    }
    return s;
}

void store_close(store *s)
{
    if (!s)
        return;
    db_close(s->db);
    store_generations_free(s->generations);
    free(s);
}

err store_maintain(store *s, bool when_outdated) { return db_maintain(s->db, when_outdated); }

void store_relax_durability(store *s) { db_relax_durability(s->db); }

typedef struct txn {
    store *s;
    err (*fn)(store *s, void *ctx);
    void *ctx;
} txn;

static err run_txn(void *p)
{
    txn *t = p;
    return t->fn(t->s, t->ctx);
}

err store_transaction(store *s, err (*fn)(store *s, void *ctx), void *ctx)
{
    txn t = {s, fn, ctx};
    return db_transaction(s->db, run_txn, &t);
}

err store_read(store *s, err (*fn)(store *s, void *ctx), void *ctx)
{
    txn t = {s, fn, ctx};
    return db_read(s->db, run_txn, &t);
}

err store_conflict(store *s, err e, const char *constraint, err instead)
{
    const char *violated = err_failed(e) ? db_unique_violation(s->db) : NULL;
    return violated && strcmp(violated, constraint) == 0 ? instead : e;
}

err store_get(store *s, arena *a, const db_table *t, const char *id_column, const char *id,
              const store_scope *scope, scope_column column, void *out)
{
    sql_builder b;
    db_select(&b, a, t);
    if (scope)
        scope_append(&b, scope, t->alias, column);
    sql_builder_appendf(&b, " AND %s.%s = ?", t->alias, id_column);
    sql_builder_bind_text(&b, id);
    return db_one(s->db, a, &b, t, out);
}

typedef struct deletion {
    store *s;
    const db_table *t;
    const char *id_column, *id;
    const store_scope *scope;
    scope_column column;
    const store_event *ev;
} deletion;

static err delete_row(void *p)
{
    deletion *x = p;
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_appendf(&b, "DELETE FROM %s WHERE %s = ?", x->t->name, x->id_column);
    sql_builder_bind_text(&b, x->id);
    scope_append_write(&b, x->scope, x->t, x->id_column, x->column);
    err e = db_change(x->s->db, &b, x->t);
    arena_free(&a);
    if (!err_failed(e) && x->ev)
        e = store_event_record(x->s, *x->ev);
    return e;
}

err store_delete(store *s, const db_table *t, const char *id_column, const char *id,
                 const store_scope *scope, scope_column column, const store_event *ev)
{
    deletion x = {s, t, id_column, id, scope, column, ev};
    return db_transaction(s->db, delete_row, &x);
}

static void found_row(const db_row *r, void *ctx)
{
    (void)r;
    *(bool *)ctx = true;
}

err store_first_missing(store *s, store_kind kind, const char *workspace_id, const str_list *ids,
                        long *missing)
{
    static const char *const sql[] = {
        [STORE_CONNECTED_ACCOUNT] = "SELECT 1 FROM connected_accounts"
                                    " WHERE workspace_id = ? AND connected_account_id = ?",
        [STORE_CONNECT_WEBVIEW] = "SELECT 1 FROM connect_webviews"
                                  " WHERE workspace_id = ? AND connect_webview_id = ?",
        [STORE_USER_IDENTITY] = "SELECT 1 FROM user_identities"
                                " WHERE workspace_id = ? AND user_identity_id = ?",
    };
    *missing = -1;
    arena a;
    arena_init(&a);
    err e = ERR_NONE;
    for (size_t i = 0; i < ids->count && *missing < 0 && !err_failed(e); i++) {
        sql_builder b;
        sql_builder_init(&b, &a);
        sql_builder_append(&b, sql[kind]);
        sql_builder_bindf(&b, "ss", workspace_id, ids->items[i]);
        bool found = false;
        e = db_query(s->db, &b, found_row, &found);
        if (!err_failed(e) && !found)
            *missing = (long)i;
    }
    arena_free(&a);
    return e;
}
