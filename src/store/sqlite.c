/* SQLite implementation of store.h: one connection per worker thread (opened
 * lazily, closed at thread exit), WAL mode, a per-connection cache of
 * prepared statements, and all scoping applied in SQL. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/sql_builder.h"
#include "store/store.h"

enum { STMT_CACHE_SIZE = 96 };

typedef struct cached_stmt {
    uint64_t hash;
    char *sql;
    sqlite3_stmt *stmt;
} cached_stmt;

typedef struct conn {
    sqlite3 *db;
    cached_stmt cache[STMT_CACHE_SIZE];
    size_t next_evict;
} conn;

struct store {
    char *path;
    pthread_key_t key;
};

static const err ERR_DB = {ERR_INTERNAL, "internal_error", "The database failed."};
static const err ERR_BUSY = {ERR_UNAVAILABLE, "service_unavailable",
                             "The database is busy; try again."};

static err db_err(sqlite3 *db, int rc)
{
    (void)db;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return ERR_BUSY;
    fprintf(stderr, "sqlite: %s (%d)\n", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return ERR_DB;
}

static void conn_close(void *p)
{
    conn *c = p;
    if (!c)
        return;
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

static conn *conn_open(const char *path, err *e)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        *e = ERR_DB;
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "sqlite: cannot open %s: %s\n", path,
                c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        *e = ERR_DB;
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    if (exec_sql(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "PRAGMA foreign_keys=ON;") != SQLITE_OK) {
        conn_close(c);
        *e = ERR_DB;
        return NULL;
    }
    return c;
}

static conn *get_conn(store *s, err *e)
{
    conn *c = pthread_getspecific(s->key);
    if (c)
        return c;
    c = conn_open(s->path, e);
    if (c)
        pthread_setspecific(s->key, c);
    return c;
}

/* A prepared statement for sql, from this connection's cache, reset and
 * with its bindings cleared. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static sqlite3_stmt *prepare(conn *c, const char *sql, err *e)
{
    uint64_t hash = fnv1a(sql);
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        if (c->cache[i].hash == hash && c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            sqlite3_reset(c->cache[i].stmt);
            sqlite3_clear_bindings(c->cache[i].stmt);
            return c->cache[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        *e = db_err(c->db, rc);
        return NULL;
    }
    cached_stmt *slot = &c->cache[c->next_evict];
    c->next_evict = (c->next_evict + 1) % STMT_CACHE_SIZE;
    sqlite3_finalize(slot->stmt);
    free(slot->sql);
    slot->hash = hash;
    slot->sql = strdup(sql);
    slot->stmt = st;
    return st;
}

/* Prepares the builder's statement and binds its values. */
static sqlite3_stmt *prepare_built(conn *c, const sql_builder *b, err *e)
{
    sqlite3_stmt *st = prepare(c, sql_builder_text(b), e);
    if (!st)
        return NULL;
    for (size_t i = 0; i < b->nbinds; i++) {
        const sql_bind *v = &b->binds[i];
        int idx = (int)i + 1;
        if (v->is_int)
            sqlite3_bind_int64(st, idx, v->i);
        else if (v->text)
            sqlite3_bind_text(st, idx, v->text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, idx);
    }
    return st;
}

static void bind_text_or_null(sqlite3_stmt *st, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

static const char *col_text(arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

/* Runs a statement that returns no rows to completion. */
static err step_done(conn *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    return ERR_NONE;
}

static err begin(conn *c)
{
    int rc = exec_sql(c->db, "BEGIN IMMEDIATE");
    return rc == SQLITE_OK ? ERR_NONE : db_err(c->db, rc);
}

/* Commits when e is success, rolls back otherwise; returns the outcome. */
static err finish(conn *c, err e)
{
    if (err_failed(e)) {
        exec_sql(c->db, "ROLLBACK");
        return e;
    }
    int rc = exec_sql(c->db, "COMMIT");
    if (rc != SQLITE_OK) {
        exec_sql(c->db, "ROLLBACK");
        return db_err(c->db, rc);
    }
    return ERR_NONE;
}

/* ---- open and migrate ---- */

static err migrate(conn *c)
{
    if (exec_sql(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)") !=
        SQLITE_OK)
        return ERR_DB;
    for (size_t i = 0; i < sqlite_migrations_count; i++) {
        const migration *m = &sqlite_migrations[i];
        err e = begin(c);
        if (err_failed(e))
            return e;
        sqlite3_stmt *st = prepare(c, "SELECT 1 FROM schema_migrations WHERE version = ?", &e);
        if (!st)
            return finish(c, e);
        sqlite3_bind_int(st, 1, m->version);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) {
            finish(c, ERR_NONE);
            continue;
        }
        if (exec_sql(c->db, m->sql) != SQLITE_OK)
            return finish(c, ERR_DB);
        st = prepare(c, "INSERT INTO schema_migrations (version, applied_at) "
                        "VALUES (?, CAST(strftime('%s','now') AS INTEGER) * 1000)", &e);
        if (!st)
            return finish(c, e);
        sqlite3_bind_int(st, 1, m->version);
        e = finish(c, step_done(c, st));
        if (err_failed(e))
            return e;
    }
    return ERR_NONE;
}

/* Process-wide settings, before SQLite initialises: connections are never
 * shared between threads, and memory statistics (a global mutex) are off. */
static void configure_sqlite_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

store *store_open(const char *url, err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite_once);
    const char *path = url;
    if (strncmp(url, "sqlite:", 7) == 0)
        path = url + 7;
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        *e = ERR_DB;
        return NULL;
    }
    pthread_key_create(&s->key, conn_close);
    conn *c = get_conn(s, e);
    if (!c || err_failed(*e = migrate(c))) {
        store_close(s);
        return NULL;
    }
    return s;
}

void store_close(store *s)
{
    if (!s)
        return;
    conn_close(pthread_getspecific(s->key));
    pthread_setspecific(s->key, NULL);
    pthread_key_delete(s->key);
    free(s->path);
    free(s);
}

/* ---- scoping ---- */

/* The connected accounts a client session holds: granted directly, or
 * created through a connect webview it holds. `session` is an SQL expression
 * naming the session id; it appears twice. */
#define SESSION_ACCOUNTS(session)                                                          \
    "SELECT connected_account_id FROM client_session_connected_accounts"                  \
    " WHERE client_session_id = " session                                                  \
    " UNION SELECT cw.connected_account_id FROM client_session_connect_webviews x"         \
    " JOIN connect_webviews cw ON cw.connect_webview_id = x.connect_webview_id"            \
    " WHERE x.client_session_id = " session " AND cw.connected_account_id IS NOT NULL"

#define USER_SESSION "(SELECT client_session_id FROM client_sessions WHERE workspace_id = ? AND user_identifier_key = ?)"

/* Appends " AND <alias>.workspace_id = ?", then for each session the scope
 * names (by id, or by user_identifier_key) " AND <alias>.connected_account_id
 * IN (the accounts that session holds)". */
static void append_device_scope(sql_builder *b, const store_scope *scope, const char *alias)
{
    sql_builder_appendf(b, " AND %s.workspace_id = ?", alias);
    sql_builder_bind_text(b, scope->workspace_id);
    if (scope->client_session_id) {
        sql_builder_appendf(b, " AND %s.connected_account_id IN (" SESSION_ACCOUNTS("?") ")",
                            alias);
        sql_builder_bind_text(b, scope->client_session_id);
        sql_builder_bind_text(b, scope->client_session_id);
    }
    if (scope->user_identifier_key) {
        sql_builder_appendf(b, " AND %s.connected_account_id IN (" SESSION_ACCOUNTS(USER_SESSION) ")",
                            alias);
        for (int i = 0; i < 2; i++) {
            sql_builder_bind_text(b, scope->workspace_id);
            sql_builder_bind_text(b, scope->user_identifier_key);
        }
    }
}

/* ---- workspaces and API keys ---- */

#define WORKSPACE_COLUMNS "workspace_id, name, company_name, is_sandbox, publishable_key, created_at"

static void read_workspace(arena *a, sqlite3_stmt *st, store_workspace *w)
{
    w->workspace_id = col_text(a, st, 0);
    w->name = col_text(a, st, 1);
    w->company_name = col_text(a, st, 2);
    w->is_sandbox = sqlite3_column_int(st, 3) != 0;
    w->publishable_key = col_text(a, st, 4);
    w->created_at = sqlite3_column_int64(st, 5);
}

err store_workspace_create(store *s, const store_workspace *w)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO workspaces (" WORKSPACE_COLUMNS ") VALUES (?,?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, w->workspace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->company_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->is_sandbox);
    sqlite3_bind_text(st, 5, w->publishable_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, w->created_at);
    return step_done(c, st);
}

static bool workspace_by(store *s, arena *a, const char *sql, const char *key,
                         store_workspace *out, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    sqlite3_stmt *st = prepare(c, sql, e);
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_workspace(a, st, out);
    else if (rc != SQLITE_DONE)
        *e = db_err(c->db, rc);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

bool store_workspace_get(store *s, arena *a, const char *workspace_id, store_workspace *out,
                         err *e)
{
    return workspace_by(s, a, "SELECT " WORKSPACE_COLUMNS " FROM workspaces WHERE workspace_id = ?",
                        workspace_id, out, e);
}

bool store_workspace_by_publishable_key(store *s, arena *a, const char *key,
                                        store_workspace *out, err *e)
{
    return workspace_by(s, a,
                        "SELECT " WORKSPACE_COLUMNS " FROM workspaces WHERE publishable_key = ?",
                        key, out, e);
}

int64_t store_workspace_count(store *s, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return -1;
    sqlite3_stmt *st = prepare(c, "SELECT COUNT(*) FROM workspaces", e);
    if (!st)
        return -1;
    int64_t n = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        *e = db_err(c->db, rc);
    sqlite3_reset(st);
    return n;
}

err store_api_key_create(store *s, const char *api_key_id, const char *workspace_id,
                         const char *name, const char *token_hash, int64_t created_at)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO api_keys (api_key_id, workspace_id, name, "
                                  "token_hash, created_at) VALUES (?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, api_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, workspace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, created_at);
    return step_done(c, st);
}

bool store_api_key_lookup(store *s, arena *a, const char *token_hash,
                          const char **workspace_id_out, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    sqlite3_stmt *st = prepare(c, "SELECT workspace_id FROM api_keys WHERE token_hash = ?", e);
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *workspace_id_out = col_text(a, st, 0);
    else if (rc != SQLITE_DONE)
        *e = db_err(c->db, rc);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

/* ---- client sessions ---- */

#define SESSION_OWN_COLUMNS                                                                \
    "cs.client_session_id, cs.workspace_id, cs.user_identifier_key, cs.token_sealed,"      \
    " cs.user_identity_id, cs.customer_key, cs.created_at, cs.expires_at, cs.revoked_at"
#define SESSION_COLUMNS                                                                    \
    SESSION_OWN_COLUMNS ", (SELECT COUNT(*) FROM devices d WHERE d.workspace_id = cs.workspace_id"              \
    " AND d.connected_account_id IN (" SESSION_ACCOUNTS("cs.client_session_id") "))"

/* Collects the one-column rows of sql, with every parameter bound to the
 * session id. */
static err read_id_list(conn *c, arena *a, const char *sql, const char *session_id,
                        str_list *out)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare(c, sql, &e);
    if (!st)
        return e;
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++)
        sqlite3_bind_text(st, i, session_id, -1, SQLITE_STATIC);
    size_t cap = 4, n = 0;
    const char **items = arena_alloc(a, cap * sizeof *items);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            const char **bigger = arena_alloc(a, 2 * cap * sizeof *items);
            memcpy(bigger, items, n * sizeof *items);
            items = bigger;
            cap *= 2;
        }
        items[n++] = col_text(a, st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    out->items = items;
    out->count = n;
    return ERR_NONE;
}

static void read_session(arena *a, sqlite3_stmt *st, store_client_session *cs)
{
    cs->client_session_id = col_text(a, st, 0);
    cs->workspace_id = col_text(a, st, 1);
    cs->user_identifier_key = col_text(a, st, 2);
    cs->token_sealed = col_text(a, st, 3);
    cs->user_identity_id = col_text(a, st, 4);
    cs->customer_key = col_text(a, st, 5);
    cs->created_at = sqlite3_column_int64(st, 6);
    cs->expires_at = sqlite3_column_int64(st, 7);
    cs->revoked_at = sqlite3_column_int64(st, 8);
    cs->device_count = sqlite3_column_int64(st, 9);
}

static err read_session_children(conn *c, arena *a, store_client_session *cs)
{
    err e = read_id_list(c, a, "SELECT connected_account_id FROM (" SESSION_ACCOUNTS("?") ") ORDER BY 1",
                         cs->client_session_id, &cs->connected_account_ids);
    if (err_failed(e))
        return e;
    return read_id_list(c, a,
                        "SELECT connect_webview_id FROM client_session_connect_webviews"
                        " WHERE client_session_id = ? ORDER BY 1",
                        cs->client_session_id, &cs->connect_webview_ids);
}

/* Runs a built SELECT of SESSION_COLUMNS and collects every row. */
static err select_sessions(conn *c, arena *a, const sql_builder *b, store_client_session **out,
                           size_t *count)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare_built(c, b, &e);
    if (!st)
        return e;
    size_t cap = 8, n = 0;
    store_client_session *rows = arena_alloc(a, cap * sizeof *rows);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            store_client_session *bigger = arena_alloc(a, 2 * cap * sizeof *rows);
            memcpy(bigger, rows, n * sizeof *rows);
            rows = bigger;
            cap *= 2;
        }
        read_session(a, st, &rows[n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    for (size_t i = 0; i < n; i++) {
        e = read_session_children(c, a, &rows[i]);
        if (err_failed(e))
            return e;
    }
    *out = rows;
    *count = n;
    return ERR_NONE;
}

static bool select_one_session(store *s, arena *a, sql_builder *b, store_client_session *out,
                               err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    store_client_session *rows = NULL;
    size_t n = 0;
    *e = select_sessions(c, a, b, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    *out = rows[0];
    return true;
}

static err insert_grants(conn *c, const char *session_id, const store_client_session_grants *g)
{
    err e = ERR_NONE;
    for (size_t i = 0; i < g->connected_account_ids.count; i++) {
        sqlite3_stmt *st = prepare(c, "INSERT OR IGNORE INTO client_session_connected_accounts"
                                      " (client_session_id, connected_account_id) VALUES (?, ?)", &e);
        if (!st)
            return e;
        sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, g->connected_account_ids.items[i], -1, SQLITE_STATIC);
        if (err_failed(e = step_done(c, st)))
            return e;
    }
    for (size_t i = 0; i < g->connect_webview_ids.count; i++) {
        sqlite3_stmt *st = prepare(c, "INSERT OR IGNORE INTO client_session_connect_webviews"
                                      " (client_session_id, connect_webview_id) VALUES (?, ?)", &e);
        if (!st)
            return e;
        sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, g->connect_webview_ids.items[i], -1, SQLITE_STATIC);
        if (err_failed(e = step_done(c, st)))
            return e;
    }
    if (g->user_identity_id) {
        sqlite3_stmt *st = prepare(c, "UPDATE client_sessions SET user_identity_id = ?"
                                      " WHERE client_session_id = ?", &e);
        if (!st)
            return e;
        sqlite3_bind_text(st, 1, g->user_identity_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
        if (err_failed(e = step_done(c, st)))
            return e;
    }
    return ERR_NONE;
}

/* Moves replaced_id's grants to new_id and deletes replaced_id. */
static err replace_session(conn *c, const char *new_id, const char *replaced_id)
{
    static const char *const steps[] = {
        "INSERT OR IGNORE INTO client_session_connected_accounts (client_session_id, connected_account_id)"
        " SELECT ?1, connected_account_id FROM client_session_connected_accounts WHERE client_session_id = ?2",
        "INSERT OR IGNORE INTO client_session_connect_webviews (client_session_id, connect_webview_id)"
        " SELECT ?1, connect_webview_id FROM client_session_connect_webviews WHERE client_session_id = ?2",
        "UPDATE client_sessions SET user_identity_id = COALESCE(user_identity_id,"
        " (SELECT user_identity_id FROM client_sessions WHERE client_session_id = ?2))"
        " WHERE client_session_id = ?1",
    };
    err e = ERR_NONE;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        sqlite3_stmt *st = prepare(c, steps[i], &e);
        if (!st)
            return e;
        sqlite3_bind_text(st, 1, new_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, replaced_id, -1, SQLITE_STATIC);
        if (err_failed(e = step_done(c, st)))
            return e;
    }
    return ERR_NONE;
}

static err delete_session(conn *c, const char *id)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare(c, "DELETE FROM client_sessions WHERE client_session_id = ?", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return step_done(c, st);
}

err store_client_session_create(store *s, const store_client_session *cs, const char *token_hash,
                                const store_client_session_grants *grants,
                                const char *replaces_id)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c || err_failed(e = begin(c)))
        return e;
    /* The replaced session holds the user_identifier_key: it lets go first. */
    if (replaces_id) {
        sqlite3_stmt *st = prepare(c, "UPDATE client_sessions SET user_identifier_key = NULL"
                                      " WHERE client_session_id = ?", &e);
        if (!st)
            return finish(c, e);
        sqlite3_bind_text(st, 1, replaces_id, -1, SQLITE_STATIC);
        if (err_failed(e = step_done(c, st)))
            return finish(c, e);
    }
    sqlite3_stmt *st = prepare(c, "INSERT INTO client_sessions (client_session_id, workspace_id,"
                                  " user_identifier_key, token_hash, token_sealed, user_identity_id,"
                                  " customer_key, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
                               &e);
    if (!st)
        return finish(c, e);
    sqlite3_bind_text(st, 1, cs->client_session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cs->workspace_id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, cs->user_identifier_key);
    sqlite3_bind_text(st, 4, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, cs->token_sealed, -1, SQLITE_STATIC);
    bind_text_or_null(st, 6, cs->user_identity_id);
    bind_text_or_null(st, 7, cs->customer_key);
    sqlite3_bind_int64(st, 8, cs->created_at);
    sqlite3_bind_int64(st, 9, cs->expires_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE &&
            strstr(sqlite3_errmsg(c->db), "user_identifier_key"))
            e = err_make(ERR_BAD_REQUEST, "client_session_token_already_exists",
                         "A client session already exists for this user_identifier_key; use "
                         "client_sessions/get_or_create.");
        else
            e = db_err(c->db, rc);
        return finish(c, e);
    }
    e = insert_grants(c, cs->client_session_id, grants);
    if (!err_failed(e) && replaces_id) {
        e = replace_session(c, cs->client_session_id, replaces_id);
        if (!err_failed(e))
            e = delete_session(c, replaces_id);
    }
    return finish(c, e);
}

bool store_client_session_by_token_hash(store *s, arena *a, const char *token_hash,
                                        store_client_session *out, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    sqlite3_stmt *st = prepare(c, "SELECT " SESSION_OWN_COLUMNS ", 0 FROM client_sessions cs"
                                  " WHERE cs.token_hash = ?", e);
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        read_session(a, st, out);
    } else if (rc != SQLITE_DONE) {
        *e = db_err(c->db, rc);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

bool store_client_session_get(store *s, arena *a, const char *workspace_id, const char *id,
                              const char *user_identifier_key, store_client_session *out,
                              err *e)
{
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT " SESSION_COLUMNS " FROM client_sessions cs WHERE cs.workspace_id = ?");
    sql_builder_bind_text(&b, workspace_id);
    if (id) {
        sql_builder_append(&b, " AND cs.client_session_id = ?");
        sql_builder_bind_text(&b, id);
    }
    if (user_identifier_key) {
        sql_builder_append(&b, " AND cs.user_identifier_key = ?");
        sql_builder_bind_text(&b, user_identifier_key);
    }
    if (!id && !user_identifier_key)
        return false;
    return select_one_session(s, a, &b, out, e);
}

err store_client_session_list(store *s, arena *a, const char *workspace_id,
                              const store_client_session_filter *f, store_client_session **out,
                              size_t *count)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT " SESSION_COLUMNS " FROM client_sessions cs WHERE cs.workspace_id = ?");
    sql_builder_bind_text(&b, workspace_id);
    if (f->client_session_id) {
        sql_builder_append(&b, " AND cs.client_session_id = ?");
        sql_builder_bind_text(&b, f->client_session_id);
    }
    if (f->user_identifier_key) {
        sql_builder_append(&b, " AND cs.user_identifier_key = ?");
        sql_builder_bind_text(&b, f->user_identifier_key);
    }
    if (f->user_identity_id) {
        sql_builder_append(&b, " AND cs.user_identity_id = ?");
        sql_builder_bind_text(&b, f->user_identity_id);
    }
    if (f->connect_webview_id) {
        sql_builder_append(&b, " AND cs.client_session_id IN (SELECT client_session_id FROM"
                               " client_session_connect_webviews WHERE connect_webview_id = ?)");
        sql_builder_bind_text(&b, f->connect_webview_id);
    }
    if (f->without_user_identifier_key)
        sql_builder_append(&b, " AND cs.user_identifier_key IS NULL");
    sql_builder_append(&b, " ORDER BY cs.created_at, cs.client_session_id");
    return select_sessions(c, a, &b, out, count);
}

/* Runs `sql` (binding workspace_id, id) inside the transaction and tells
 * whether it changed a row. */
static bool change_session(conn *c, const char *sql, const char *workspace_id, const char *id,
                           const int64_t *now, err *e)
{
    sqlite3_stmt *st = prepare(c, sql, e);
    if (!st)
        return false;
    int i = 1;
    if (now)
        sqlite3_bind_int64(st, i++, *now);
    sqlite3_bind_text(st, i++, workspace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
    *e = step_done(c, st);
    return !err_failed(*e) && sqlite3_changes(c->db) > 0;
}

bool store_client_session_grant(store *s, const char *workspace_id, const char *id,
                                const store_client_session_grants *grants, int64_t expires_at,
                                err *e)
{
    conn *c = get_conn(s, e);
    if (!c || err_failed(*e = begin(c)))
        return false;
    /* Sets the expiry (or, with 0, leaves it) and finds the session in this
     * workspace, within the transaction. */
    bool found = change_session(c, "UPDATE client_sessions SET expires_at ="
                                   " CASE WHEN ?1 = 0 THEN expires_at ELSE ?1 END"
                                   " WHERE workspace_id = ?2 AND client_session_id = ?3",
                                workspace_id, id, &expires_at, e);
    if (found)
        *e = insert_grants(c, id, grants);
    *e = finish(c, *e);
    return found && !err_failed(*e);
}

bool store_client_session_revoke(store *s, const char *workspace_id, const char *id,
                                 int64_t now, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    return change_session(c, "UPDATE client_sessions SET revoked_at = COALESCE(revoked_at, ?)"
                             " WHERE workspace_id = ? AND client_session_id = ?",
                          workspace_id, id, &now, e);
}

bool store_client_session_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    return change_session(c, "DELETE FROM client_sessions WHERE workspace_id = ? AND client_session_id = ?",
                          workspace_id, id, NULL, e);
}

/* ---- ids a request names ---- */

long store_first_missing(store *s, store_kind kind, const char *workspace_id,
                         const str_list *ids, err *e)
{
    static const char *const sql[] = {
        [STORE_CONNECTED_ACCOUNT] = "SELECT 1 FROM connected_accounts WHERE workspace_id = ? AND connected_account_id = ?",
        [STORE_CONNECT_WEBVIEW] = "SELECT 1 FROM connect_webviews WHERE workspace_id = ? AND connect_webview_id = ?",
        [STORE_USER_IDENTITY] = "SELECT 1 FROM user_identities WHERE workspace_id = ? AND user_identity_id = ?",
    };
    conn *c = get_conn(s, e);
    if (!c)
        return -1;
    for (size_t i = 0; i < ids->count; i++) {
        sqlite3_stmt *st = prepare(c, sql[kind], e);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, workspace_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ids->items[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return (long)i;
        if (rc != SQLITE_ROW) {
            *e = db_err(c->db, rc);
            return -1;
        }
    }
    return -1;
}

/* ---- connected accounts, connect webviews, user identities ---- */

err store_connected_account_create(store *s, const store_connected_account *ca)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO connected_accounts (connected_account_id, workspace_id,"
                                  " provider, user_email, created_at) VALUES (?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, ca->connected_account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ca->workspace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ca->provider, -1, SQLITE_STATIC);
    bind_text_or_null(st, 4, ca->user_email);
    sqlite3_bind_int64(st, 5, ca->created_at);
    return step_done(c, st);
}

err store_connect_webview_create(store *s, const store_connect_webview *cw)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO connect_webviews (connect_webview_id, workspace_id,"
                                  " connected_account_id, status, created_at) VALUES (?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, cw->connect_webview_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cw->workspace_id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, cw->connected_account_id);
    sqlite3_bind_text(st, 4, cw->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, cw->created_at);
    return step_done(c, st);
}

err store_user_identity_create(store *s, const store_user_identity *ui)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO user_identities (user_identity_id, workspace_id,"
                                  " user_identity_key, email_address, phone_number, full_name,"
                                  " created_at) VALUES (?,?,?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, ui->user_identity_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ui->workspace_id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, ui->user_identity_key);
    bind_text_or_null(st, 4, ui->email_address);
    bind_text_or_null(st, 5, ui->phone_number);
    bind_text_or_null(st, 6, ui->full_name);
    sqlite3_bind_int64(st, 7, ui->created_at);
    return step_done(c, st);
}

/* ---- devices ---- */

#define DEVICE_COLUMNS                                                                     \
    "d.seq, d.device_id, d.workspace_id, d.connected_account_id, d.device_type,"           \
    " d.manufacturer, d.name, d.nickname, d.model, d.online, d.locked, d.battery_level,"   \
    " d.extra_properties, d.custom_metadata, d.created_at"

static void read_device(arena *a, sqlite3_stmt *st, store_device *d)
{
    d->seq = sqlite3_column_int64(st, 0);
    d->device_id = col_text(a, st, 1);
    d->workspace_id = col_text(a, st, 2);
    d->connected_account_id = col_text(a, st, 3);
    d->device_type = col_text(a, st, 4);
    d->manufacturer = col_text(a, st, 5);
    d->name = col_text(a, st, 6);
    d->nickname = col_text(a, st, 7);
    d->model = col_text(a, st, 8);
    d->online = sqlite3_column_int(st, 9) != 0;
    d->locked = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 10);
    d->battery_level = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1.0
                                                                   : sqlite3_column_double(st, 11);
    d->extra_properties = col_text(a, st, 12);
    d->custom_metadata = col_text(a, st, 13);
    d->created_at = sqlite3_column_int64(st, 14);
}

err store_device_create(store *s, const store_device *d)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sqlite3_stmt *st = prepare(c, "INSERT INTO devices (device_id, workspace_id, connected_account_id,"
                                  " device_type, manufacturer, name, nickname, model, online, locked,"
                                  " battery_level, extra_properties, custom_metadata, created_at)"
                                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &e);
    if (!st)
        return e;
    sqlite3_bind_text(st, 1, d->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->workspace_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->connected_account_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->device_type, -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, d->manufacturer);
    sqlite3_bind_text(st, 6, d->name, -1, SQLITE_STATIC);
    bind_text_or_null(st, 7, d->nickname);
    bind_text_or_null(st, 8, d->model);
    sqlite3_bind_int(st, 9, d->online);
    if (d->locked >= 0)
        sqlite3_bind_int(st, 10, d->locked);
    else
        sqlite3_bind_null(st, 10);
    if (d->battery_level >= 0)
        sqlite3_bind_double(st, 11, d->battery_level);
    else
        sqlite3_bind_null(st, 11);
    bind_text_or_null(st, 12, d->extra_properties);
    bind_text_or_null(st, 13, d->custom_metadata);
    sqlite3_bind_int64(st, 14, d->created_at);
    return step_done(c, st);
}

static void append_in_list(sql_builder *b, const char *column, const str_list *l)
{
    sql_builder_appendf(b, " AND %s IN (", column);
    for (size_t i = 0; i < l->count; i++) {
        sql_builder_append(b, i ? ",?" : "?");
        sql_builder_bind_text(b, l->items[i]);
    }
    sql_builder_append(b, ")");
}

static err select_devices(conn *c, arena *a, const sql_builder *b, store_device **out,
                          size_t *count, size_t cap_hint)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare_built(c, b, &e);
    if (!st)
        return e;
    size_t cap = cap_hint ? cap_hint : 1, n = 0;
    store_device *rows = arena_alloc(a, cap * sizeof *rows);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            store_device *bigger = arena_alloc(a, 2 * cap * sizeof *rows);
            memcpy(bigger, rows, n * sizeof *rows);
            rows = bigger;
            cap *= 2;
        }
        read_device(a, st, &rows[n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    *out = rows;
    *count = n;
    return ERR_NONE;
}

err store_device_list(store *s, arena *a, const store_scope *scope, const store_device_filter *f,
                      store_device **out, size_t *count)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.seq > ?");
    sql_builder_bind_int(&b, f->after_seq);
    append_device_scope(&b, scope, "d");
    if (f->device_ids)
        append_in_list(&b, "d.device_id", f->device_ids);
    if (f->connected_account_ids)
        append_in_list(&b, "d.connected_account_id", f->connected_account_ids);
    if (f->device_types)
        append_in_list(&b, "d.device_type", f->device_types);
    if (f->manufacturer) {
        sql_builder_append(&b, " AND d.manufacturer = ?");
        sql_builder_bind_text(&b, f->manufacturer);
    }
    sql_builder_append(&b, " ORDER BY d.seq LIMIT ?");
    sql_builder_bind_int(&b, (int64_t)f->limit);
    return select_devices(c, a, &b, out, count, f->limit < 64 ? f->limit : 64);
}

bool store_device_get(store *s, arena *a, const store_scope *scope, const char *device_id,
                      const char *name, store_device *out, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT " DEVICE_COLUMNS " FROM devices d WHERE 1");
    append_device_scope(&b, scope, "d");
    if (device_id) {
        sql_builder_append(&b, " AND d.device_id = ?");
        sql_builder_bind_text(&b, device_id);
    } else {
        sql_builder_append(&b, " AND (d.nickname = ? OR d.name = ?)");
        sql_builder_bind_text(&b, name);
        sql_builder_bind_text(&b, name);
    }
    sql_builder_append(&b, " ORDER BY d.seq LIMIT 1");
    store_device *rows = NULL;
    size_t n = 0;
    *e = select_devices(c, a, &b, &rows, &n, 1);
    if (err_failed(*e) || n == 0)
        return false;
    *out = rows[0];
    return true;
}
