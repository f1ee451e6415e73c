/* Client sessions and their grants (connected accounts, connect webviews,
 * a user identity). */
#include <string.h>

#include "store/resource.h"

static const db_column SESSION_COLUMNS[] = {
    DB_SEQ(store_client_session),
    DB_COLUMN(store_client_session, client_session_id, DB_TEXT),
    DB_COLUMN(store_client_session, workspace_id, DB_TEXT),
    DB_COLUMN(store_client_session, user_identifier_key, DB_TEXT),
    DB_COLUMN(store_client_session, token_sealed, DB_TEXT),
    DB_COLUMN(store_client_session, user_identity_id, DB_TEXT),
    DB_COLUMN(store_client_session, customer_key, DB_TEXT),
    DB_COLUMN(store_client_session, created_at, DB_INT),
    DB_COLUMN(store_client_session, expires_at, DB_INT),
    DB_COLUMN(store_client_session, revoked_at, DB_INT0),
    /* last, so that OWN_SESSIONS can leave it out */
    DB_COMPUTED(store_client_session, device_count, DB_INT,
                "SELECT COUNT(*) FROM devices d WHERE d.workspace_id = cs.workspace_id"
                " AND d.connected_account_id IN (" SESSION_ACCOUNTS("cs.client_session_id") ")"),
};

#define NOT_FOUND_INIT {ERR_NOT_FOUND, "client_session_not_found", "Client session not found."}

static const db_table SESSIONS = {
    "client_sessions", "cs", SESSION_COLUMNS, DB_COUNT(SESSION_COLUMNS),
    sizeof(store_client_session), NOT_FOUND_INIT,
};

/* The session's own columns: what authentication needs, without counting. */
static const db_table OWN_SESSIONS = {
    "client_sessions", "cs", SESSION_COLUMNS, DB_COUNT(SESSION_COLUMNS) - 1,
    sizeof(store_client_session), NOT_FOUND_INIT,
};

static err insert_grants(store *s, const char *session_id, const store_client_session_grants *g)
{
    err e = ERR_NONE;
    for (size_t i = 0; i < g->connected_account_ids.count && !err_failed(e); i++)
        e = db_execf(s->db, NULL, "INSERT INTO client_session_connected_accounts"
                                  " (client_session_id, connected_account_id) VALUES (?, ?)"
                                  " ON CONFLICT DO NOTHING",
                     "ss", session_id, g->connected_account_ids.items[i]);
    for (size_t i = 0; i < g->connect_webview_ids.count && !err_failed(e); i++)
        e = db_execf(s->db, NULL, "INSERT INTO client_session_connect_webviews"
                                  " (client_session_id, connect_webview_id) VALUES (?, ?)"
                                  " ON CONFLICT DO NOTHING",
                     "ss", session_id, g->connect_webview_ids.items[i]);
    if (g->user_identity_id && !err_failed(e))
        e = db_execf(s->db, NULL, "UPDATE client_sessions SET user_identity_id = ?"
                                  " WHERE client_session_id = ?",
                     "ss", g->user_identity_id, session_id);
    return e;
}

/* Moves replaced_id's grants to new_id and deletes replaced_id. */
static err replace_session(store *s, const char *new_id, const char *replaced_id)
{
    static const char *const steps[] = {
        "INSERT INTO client_session_connected_accounts (client_session_id, connected_account_id)"
        " SELECT ?, connected_account_id FROM client_session_connected_accounts"
        " WHERE client_session_id = ? ON CONFLICT DO NOTHING",
        "INSERT INTO client_session_connect_webviews (client_session_id, connect_webview_id)"
        " SELECT ?, connect_webview_id FROM client_session_connect_webviews"
        " WHERE client_session_id = ? ON CONFLICT DO NOTHING",
        "UPDATE client_sessions SET user_identity_id = COALESCE(user_identity_id,"
        " (SELECT old.user_identity_id FROM client_sessions old WHERE old.client_session_id = ?))"
        " WHERE client_session_id = ?",
    };
    err e = ERR_NONE;
    for (size_t i = 0; i < DB_COUNT(steps) && !err_failed(e); i++)
        e = db_execf(s->db, NULL, steps[i], "ss", i < 2 ? new_id : replaced_id,
                     i < 2 ? replaced_id : new_id);
    if (!err_failed(e))
        e = db_execf(s->db, NULL, "DELETE FROM client_sessions WHERE client_session_id = ?", "s",
                     replaced_id);
    return e;
}

typedef struct creation {
    store *s;
    const store_client_session *cs;
    const char *token_hash;
    const store_client_session_grants *grants;
    const char *replaces_id;
} creation;

static err create_session(void *p)
{
    creation *x = p;
    store *s = x->s;
    const store_client_session *cs = x->cs;
    err e = ERR_NONE;
    /* The replaced session holds the user_identifier_key: it lets go first. */
    if (x->replaces_id &&
        err_failed(e = db_execf(s->db, NULL, "UPDATE client_sessions SET user_identifier_key = NULL"
                                             " WHERE client_session_id = ?",
                                "s", x->replaces_id)))
        return e;
    e = db_execf(s->db, NULL,
                 "INSERT INTO client_sessions (client_session_id, workspace_id, user_identifier_key,"
                 " token_hash, token_sealed, user_identity_id, customer_key, created_at, expires_at)"
                 " VALUES (?,?,?,?,?,?,?,?,?)",
                 "sssssssii", cs->client_session_id, cs->workspace_id, cs->user_identifier_key,
                 x->token_hash, cs->token_sealed, cs->user_identity_id, cs->customer_key,
                 cs->created_at, cs->expires_at);
    const char *violated = err_failed(e) ? db_unique_violation(s->db) : NULL;
    if (violated && strcmp(violated, "client_sessions_user") == 0)
        return err_make(ERR_BAD_REQUEST, "client_session_token_already_exists",
                        "A client session already exists for this user_identifier_key; use "
                        "client_sessions/get_or_create.");
    if (!err_failed(e))
        e = insert_grants(s, cs->client_session_id, x->grants);
    if (!err_failed(e) && x->replaces_id)
        e = replace_session(s, cs->client_session_id, x->replaces_id);
    return e;
}

err store_client_session_create(store *s, const store_client_session *cs, const char *token_hash,
                                const store_client_session_grants *grants,
                                const char *replaces_id)
{
    creation x = {s, cs, token_hash, grants, replaces_id};
    return db_transaction(s->db, create_session, &x);
}

err store_client_session_by_token_hash(store *s, arena *a, const char *token_hash,
                                       store_client_session *out)
{
    sql_builder b;
    db_select(&b, a, &OWN_SESSIONS);
    query_eq(&b, "cs.token_hash", token_hash);
    return db_one(s->db, a, &b, &OWN_SESSIONS, out);
}

err store_client_session_get(store *s, arena *a, const char *workspace_id, const char *id,
                             const char *user_identifier_key, store_client_session *out)
{
    if (!id && !user_identifier_key)
        return SESSIONS.not_found;
    store_client_session_filter f = {.client_session_id = id,
                                     .user_identifier_key = user_identifier_key};
    store_client_session *rows = NULL;
    size_t n = 0;
    err e = store_client_session_list(s, a, workspace_id, &f, NULL, &rows, &n);
    if (err_failed(e))
        return e;
    if (n == 0)
        return SESSIONS.not_found;
    *out = rows[0];
    return ERR_NONE;
}

typedef struct id_list {
    arena *a;
    const char **items;
    size_t count, cap;
} id_list;

static void read_id(const db_row *r, void *ctx)
{
    id_list *l = ctx;
    l->items = arena_grow(l->a, l->items, l->count, &l->cap, sizeof *l->items);
    l->items[l->count++] = db_col_text(r, 0, l->a);
}

/* The one-column rows of sql, with its one or two parameters all session_id. */
static err read_id_list(store *s, arena *a, const char *sql, int uses, const char *session_id,
                        str_list *out)
{
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, sql);
    for (int i = 0; i < uses; i++)
        sql_builder_bind_text(&b, session_id);
    id_list l = {.a = a};
    err e = db_query(s->db, &b, read_id, &l);
    *out = (str_list){l.items, l.count};
    return e;
}

static err read_session_children(store *s, arena *a, store_client_session *cs)
{
    err e = read_id_list(s, a,
                         "SELECT held.connected_account_id FROM (" SESSION_ACCOUNTS("?")
                         ") held ORDER BY 1",
                         2, cs->client_session_id, &cs->connected_account_ids);
    if (err_failed(e))
        return e;
    return read_id_list(s, a,
                        "SELECT connect_webview_id FROM client_session_connect_webviews"
                        " WHERE client_session_id = ? ORDER BY 1",
                        1, cs->client_session_id, &cs->connect_webview_ids);
}

err store_client_session_list(store *s, arena *a, const char *workspace_id,
                              const store_client_session_filter *f, const store_page *page,
                              store_client_session **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &SESSIONS);
    query_eq(&b, "cs.workspace_id", workspace_id);
    query_eq(&b, "cs.client_session_id", f->client_session_id);
    query_eq(&b, "cs.user_identifier_key", f->user_identifier_key);
    query_eq(&b, "cs.user_identity_id", f->user_identity_id);
    if (f->connect_webview_id) {
        sql_builder_append(&b, " AND cs.client_session_id IN (SELECT client_session_id FROM"
                               " client_session_connect_webviews WHERE connect_webview_id = ?)");
        sql_builder_bind_text(&b, f->connect_webview_id);
    }
    if (f->without_user_identifier_key)
        sql_builder_append(&b, " AND cs.user_identifier_key IS NULL");
    if (page)
        query_page(&b, "cs", page);
    err e = db_rows(s->db, a, &b, &SESSIONS, (void **)out, count);
    for (size_t i = 0; i < *count && !err_failed(e); i++)
        e = read_session_children(s, a, &(*out)[i]);
    return e;
}

typedef struct grant {
    store *s;
    const char *workspace_id, *id;
    const store_client_session_grants *grants;
    int64_t expires_at;
} grant;

static err grant_session(void *p)
{
    grant *g = p;
    /* Sets the expiry (or, with 0, leaves it) and finds the session in this
     * workspace, within the transaction. */
    err e = db_changef(g->s->db, &SESSIONS,
                       "UPDATE client_sessions SET expires_at ="
                       " CASE WHEN ? = 0 THEN expires_at ELSE ? END"
                       " WHERE workspace_id = ? AND client_session_id = ?",
                       "iiss", g->expires_at, g->expires_at, g->workspace_id, g->id);
    return err_failed(e) ? e : insert_grants(g->s, g->id, g->grants);
}

err store_client_session_grant(store *s, const char *workspace_id, const char *id,
                               const store_client_session_grants *grants, int64_t expires_at)
{
    grant g = {s, workspace_id, id, grants, expires_at};
    return db_transaction(s->db, grant_session, &g);
}

err store_client_session_revoke(store *s, const char *workspace_id, const char *id, int64_t now)
{
    return db_changef(s->db, &SESSIONS,
                      "UPDATE client_sessions SET revoked_at = COALESCE(revoked_at, ?)"
                      " WHERE workspace_id = ? AND client_session_id = ?",
                      "iss", now, workspace_id, id);
}

err store_client_session_delete(store *s, const char *workspace_id, const char *id,
                                const store_event *ev)
{
    store_scope scope = {.workspace_id = workspace_id};
    return store_delete(s, &SESSIONS, "client_session_id", id, &scope, SCOPE_BY_ACCOUNT, ev);
}
