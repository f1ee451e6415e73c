/* Client sessions and their grants (connected accounts, connect webviews,
 * a user identity). */
#include <stdlib.h>
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
};

#define NOT_FOUND_INIT {ERR_NOT_FOUND, "client_session_not_found", "Client session not found."}

/* The session's own columns; its grants and device count are read for a
 * page of sessions at once (read_chunk). */
static const db_table SESSIONS = {
    "client_sessions", "cs", SESSION_COLUMNS, DB_COUNT(SESSION_COLUMNS),
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
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "INSERT INTO client_sessions (client_session_id, workspace_id,"
                           " user_identifier_key, token_hash, token_sealed, user_identity_id,"
                           " customer_key, created_at, expires_at, seq) VALUES (?,?,?,?,?,?,?,?,?,");
    dialect_next_seq(&b, s->db, "client_sessions");
    sql_builder_append(&b, ")");
    sql_builder_bindf(&b, "sssssssii", cs->client_session_id, cs->workspace_id,
                      cs->user_identifier_key, x->token_hash, cs->token_sealed,
                      cs->user_identity_id, cs->customer_key, cs->created_at, cs->expires_at);
    e = db_exec(s->db, &b, NULL);
    arena_free(&a);
    e = store_conflict(s, e, "client_sessions_user",
                       err_make(ERR_BAD_REQUEST, "client_session_token_already_exists",
                                "A client session already exists for this user_identifier_key;"
                                " use client_sessions/get_or_create."));
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
    db_select(&b, a, &SESSIONS);
    query_eq(&b, "cs.token_hash", token_hash);
    return db_one(s->db, a, &b, &SESSIONS, out);
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

/* Sessions read their children a chunk of at most CHUNK at a time, their
 * ids padded (by repeating the last) to a power of two, so that few
 * statements of different length reach the statement caches. */
enum { CHUNK = 512 };

/* The children of a chunk of sessions, as their rows come: each session's
 * together (the statements order by session), each list in the database's
 * order as before. */
typedef struct children {
    arena *a;
    store_client_session **by_id; /* the chunk, sorted by client_session_id */
    size_t n;
    bool accounts;             /* rows of accounts with device counts, or of webviews */
    store_client_session *cur; /* whose rows are coming */
    const char **items;
    size_t count, cap;
} children;

static int compare_ids(const void *x, const void *y)
{
    const store_client_session *const *a = x, *const *b = y;
    return strcmp((*a)->client_session_id, (*b)->client_session_id);
}

/* Hands the rows collected so far to their session. */
static void children_flush(children *c)
{
    if (c->cur)
        *(c->accounts ? &c->cur->connected_account_ids : &c->cur->connect_webview_ids) =
            (str_list){c->items, c->count};
    c->items = NULL;
    c->count = c->cap = 0;
}

/* A row (session id, child id[, devices of that account]). */
static void read_child(const db_row *r, void *ctx)
{
    children *c = ctx;
    const char *id = db_col_text(r, 0, c->a);
    if (!c->cur || strcmp(c->cur->client_session_id, id) != 0) {
        children_flush(c);
        store_client_session key = {.client_session_id = id}, *k = &key;
        store_client_session **found = bsearch(&k, c->by_id, c->n, sizeof *c->by_id, compare_ids);
        c->cur = found ? *found : NULL;
    }
    if (!c->cur)
        return;
    c->items = arena_grow(c->a, c->items, c->count, &c->cap, sizeof *c->items);
    c->items[c->count++] = db_col_text(r, 1, c->a);
    if (c->accounts)
        c->cur->device_count += db_col_int(r, 2);
}

/* Fills in the connected accounts (granted, or through a connect webview),
 * the device count (their managed devices) and the connect webviews of
 * rows[0..n), n <= CHUNK, sessions of workspace_id: two statements, whose
 * cost follows the sessions' own grants and the devices of their accounts
 * (each found through the index on (connected_account_id, workspace_id)),
 * never the workspace's size (tests/unit/test_query_plans.c). */
static err read_chunk(store *s, arena *a, const char *workspace_id, store_client_session *rows,
                      size_t n)
{
    size_t padded = 1;
    while (padded < n)
        padded *= 2;
    const char **ids = arena_alloc(a, padded * sizeof *ids);
    children c = {.a = a, .by_id = arena_alloc(a, n * sizeof *c.by_id), .n = n, .accounts = true};
    for (size_t i = 0; i < padded; i++)
        ids[i] = rows[i < n ? i : n - 1].client_session_id;
    for (size_t i = 0; i < n; i++)
        c.by_id[i] = &rows[i];
    qsort(c.by_id, n, sizeof *c.by_id, compare_ids);
    str_list list = {ids, padded};
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT held.client_session_id, held.connected_account_id,"
                           " (SELECT COUNT(*) FROM devices d WHERE d.workspace_id = ?"
                           " AND d.connected_account_id = held.connected_account_id"
                           " AND d.is_managed)"
                           " FROM (SELECT client_session_id, connected_account_id"
                           " FROM client_session_connected_accounts WHERE TRUE");
    sql_builder_bind_text(&b, workspace_id);
    query_in(&b, "client_session_id", &list);
    sql_builder_append(&b, " UNION SELECT x.client_session_id, cw.connected_account_id"
                           " FROM client_session_connect_webviews x JOIN connect_webviews cw"
                           " ON cw.connect_webview_id = x.connect_webview_id"
                           " WHERE cw.connected_account_id IS NOT NULL");
    query_in(&b, "x.client_session_id", &list);
    sql_builder_append(&b, ") held ORDER BY 1, 2");
    err e = db_query(s->db, &b, read_child, &c);
    children_flush(&c);
    if (err_failed(e))
        return e;
    c.accounts = false;
    c.cur = NULL;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT client_session_id, connect_webview_id"
                           " FROM client_session_connect_webviews WHERE TRUE");
    query_in(&b, "client_session_id", &list);
    sql_builder_append(&b, " ORDER BY 1, 2");
    e = db_query(s->db, &b, read_child, &c);
    children_flush(&c);
    return e;
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
    for (size_t i = 0; i < *count && !err_failed(e); i += CHUNK)
        e = read_chunk(s, a, workspace_id, *out + i, *count - i < CHUNK ? *count - i : CHUNK);
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
