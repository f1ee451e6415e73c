/* SQLite implementation of store.h: one connection per worker thread (opened
 * lazily, closed at thread exit), WAL mode, a per-connection cache of
 * prepared statements, and all scoping applied in SQL. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
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
    int depth; /* open transactions: 1 the outer one, more are savepoints */
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
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return ERR_BUSY;
    if (db && sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE)
        return ERR_DB; /* callers that expect it turn it into their own error */
    fprintf(stderr, "sqlite: %s (%d)\n", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return ERR_DB;
}

/* ---- connections ---- */

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

/* ---- statements ---- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* A prepared statement for sql, from this connection's cache, reset and
 * with its bindings cleared. */
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

/* Binds one value per letter of types: 's' text, 'z' text or NULL, 'i'
 * int64, 'n' int64 or NULL when negative, 'f' double or NULL when negative,
 * 'b' bool. */
static void bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
    for (int i = 0; types[i]; i++) {
        int idx = i + 1;
        switch (types[i]) {
        case 's':
        case 'z': {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, idx);
            break;
        }
        case 'i':
            sqlite3_bind_int64(st, idx, va_arg(ap, int64_t));
            break;
        case 'n': {
            int64_t v = va_arg(ap, int64_t);
            if (v >= 0)
                sqlite3_bind_int64(st, idx, v);
            else
                sqlite3_bind_null(st, idx);
            break;
        }
        case 'f': {
            double v = va_arg(ap, double);
            if (v >= 0)
                sqlite3_bind_double(st, idx, v);
            else
                sqlite3_bind_null(st, idx);
            break;
        }
        case 'b':
            sqlite3_bind_int(st, idx, va_arg(ap, int) ? 1 : 0);
            break;
        }
    }
}

/* Prepares sql and binds the arguments described by types. */
static sqlite3_stmt *prepare_args(conn *c, err *e, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = prepare(c, sql, e);
    if (!st)
        return NULL;
    va_list ap;
    va_start(ap, types);
    bind_va(st, types, ap);
    va_end(ap);
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

/* Runs a statement that returns no rows; *changed (if given) tells whether
 * it changed any. */
static err conn_exec(conn *c, bool *changed, const char *sql, const char *types, ...)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare(c, sql, &e);
    if (!st)
        return e;
    va_list ap;
    va_start(ap, types);
    bind_va(st, types, ap);
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    if (changed)
        *changed = sqlite3_changes(c->db) > 0;
    return ERR_NONE;
}

#define STORE_EXEC(s, ...)                                                                 \
    do {                                                                                   \
        err e_ = ERR_NONE;                                                                 \
        conn *c_ = get_conn((s), &e_);                                                     \
        return c_ ? conn_exec(c_, NULL, __VA_ARGS__) : e_;                                 \
    } while (0)

static const char *col_text(arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

typedef void (*row_reader)(arena *a, sqlite3_stmt *st, void *row);

/* Steps st to the end, reading each row into a growing array of elem-sized
 * records in the arena. */
static err collect_rows(conn *c, arena *a, sqlite3_stmt *st, size_t elem, row_reader read,
                        void **rows_out, size_t *count)
{
    size_t cap = 0, n = 0;
    char *rows = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows = arena_grow(a, rows, n, &cap, elem);
        memset(rows + n * elem, 0, elem);
        read(a, st, rows + n * elem);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_err(c->db, rc);
    *rows_out = rows ? rows : arena_alloc(a, elem);
    *count = n;
    return ERR_NONE;
}

/* collect_rows for a query expected to give at most one row: copies it to
 * out and tells whether there was one. */
static bool collect_one(conn *c, arena *a, sqlite3_stmt *st, size_t elem, row_reader read,
                        void *out, err *e)
{
    void *rows;
    size_t n = 0;
    *e = collect_rows(c, a, st, elem, read, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    memcpy(out, rows, elem);
    return true;
}

/* ---- transactions ---- */

/* Opens a transaction, or inside one a savepoint, so that functions which
 * need one compose into a larger one. */
static err begin(conn *c)
{
    int rc = exec_sql(c->db, c->depth ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return db_err(c->db, rc);
    c->depth++;
    return ERR_NONE;
}

/* Commits (or releases the savepoint) when e is success, rolls back
 * otherwise; returns the outcome. */
static err finish(conn *c, err e)
{
    bool nested = --c->depth > 0;
    if (err_failed(e)) {
        exec_sql(c->db, nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
        return e;
    }
    int rc = exec_sql(c->db, nested ? "RELEASE nested" : "COMMIT");
    if (rc != SQLITE_OK) {
        exec_sql(c->db, nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
        return db_err(c->db, rc);
    }
    return ERR_NONE;
}

err store_transaction(store *s, err (*fn)(store *s, void *ctx), void *ctx)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c || err_failed(e = begin(c)))
        return e;
    return finish(c, fn(s, ctx));
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
        sqlite3_stmt *st = prepare_args(c, &e, "SELECT 1 FROM schema_migrations WHERE version = ?",
                                        "i", (int64_t)m->version);
        if (!st)
            return finish(c, e);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) {
            finish(c, ERR_NONE);
            continue;
        }
        if (exec_sql(c->db, m->sql) != SQLITE_OK)
            return finish(c, ERR_DB);
        e = conn_exec(c, NULL, "INSERT INTO schema_migrations (version, applied_at)"
                               " VALUES (?, CAST(strftime('%s','now') AS INTEGER) * 1000)",
                      "i", (int64_t)m->version);
        if (err_failed(e = finish(c, e)))
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

#define USER_SESSION                                                                       \
    "(SELECT client_session_id FROM client_sessions"                                       \
    " WHERE workspace_id = ? AND user_identifier_key = ?)"

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

static void read_workspace(arena *a, sqlite3_stmt *st, void *row)
{
    store_workspace *w = row;
    w->workspace_id = col_text(a, st, 0);
    w->name = col_text(a, st, 1);
    w->company_name = col_text(a, st, 2);
    w->is_sandbox = sqlite3_column_int(st, 3) != 0;
    w->publishable_key = col_text(a, st, 4);
    w->created_at = sqlite3_column_int64(st, 5);
}

err store_workspace_create(store *s, const store_workspace *w)
{
    STORE_EXEC(s, "INSERT INTO workspaces (" WORKSPACE_COLUMNS ") VALUES (?,?,?,?,?,?)", "sssbsi",
               w->workspace_id, w->name, w->company_name, (int)w->is_sandbox, w->publishable_key,
               w->created_at);
}

static bool workspace_by(store *s, arena *a, const char *sql, const char *key,
                         store_workspace *out, err *e)
{
    conn *c = get_conn(s, e);
    sqlite3_stmt *st = c ? prepare_args(c, e, sql, "s", key) : NULL;
    return st && collect_one(c, a, st, sizeof *out, read_workspace, out, e);
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

static void read_int(arena *a, sqlite3_stmt *st, void *row)
{
    (void)a;
    *(int64_t *)row = sqlite3_column_int64(st, 0);
}

static void read_text(arena *a, sqlite3_stmt *st, void *row)
{
    *(const char **)row = col_text(a, st, 0);
}

int64_t store_workspace_count(store *s, err *e)
{
    arena a;
    arena_init(&a);
    int64_t n = -1;
    conn *c = get_conn(s, e);
    sqlite3_stmt *st = c ? prepare(c, "SELECT COUNT(*) FROM workspaces", e) : NULL;
    if (st)
        collect_one(c, &a, st, sizeof n, read_int, &n, e);
    arena_free(&a);
    return n;
}

err store_api_key_create(store *s, const char *api_key_id, const char *workspace_id,
                         const char *name, const char *token_hash, int64_t created_at)
{
    STORE_EXEC(s, "INSERT INTO api_keys (api_key_id, workspace_id, name, token_hash, created_at)"
                  " VALUES (?,?,?,?,?)",
               "ssssi", api_key_id, workspace_id, name, token_hash, created_at);
}

bool store_api_key_lookup(store *s, arena *a, const char *token_hash,
                          const char **workspace_id_out, err *e)
{
    conn *c = get_conn(s, e);
    sqlite3_stmt *st = c ? prepare_args(c, e, "SELECT workspace_id FROM api_keys WHERE token_hash = ?",
                                        "s", token_hash)
                         : NULL;
    return st && collect_one(c, a, st, sizeof *workspace_id_out, read_text, workspace_id_out, e);
}

/* ---- client sessions ---- */

#define SESSION_OWN_COLUMNS                                                                \
    "cs.client_session_id, cs.workspace_id, cs.user_identifier_key, cs.token_sealed,"      \
    " cs.user_identity_id, cs.customer_key, cs.created_at, cs.expires_at, cs.revoked_at"
#define SESSION_COLUMNS                                                                    \
    SESSION_OWN_COLUMNS ", (SELECT COUNT(*) FROM devices d"                               \
    " WHERE d.workspace_id = cs.workspace_id"                                              \
    " AND d.connected_account_id IN (" SESSION_ACCOUNTS("cs.client_session_id") "))"

static void read_session(arena *a, sqlite3_stmt *st, void *row)
{
    store_client_session *cs = row;
    cs->client_session_id = col_text(a, st, 0);
    cs->workspace_id = col_text(a, st, 1);
    cs->user_identifier_key = col_text(a, st, 2);
    cs->token_sealed = col_text(a, st, 3);
    cs->user_identity_id = col_text(a, st, 4);
    cs->customer_key = col_text(a, st, 5);
    cs->created_at = sqlite3_column_int64(st, 6);
    cs->expires_at = sqlite3_column_int64(st, 7);
    cs->revoked_at = sqlite3_column_int64(st, 8);
    if (sqlite3_column_count(st) > 9)
        cs->device_count = sqlite3_column_int64(st, 9);
}

/* The one-column rows of sql, with every parameter bound to session_id. */
static err read_id_list(conn *c, arena *a, const char *sql, const char *session_id,
                        str_list *out)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare(c, sql, &e);
    if (!st)
        return e;
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++)
        sqlite3_bind_text(st, i, session_id, -1, SQLITE_STATIC);
    void *items;
    e = collect_rows(c, a, st, sizeof *out->items, read_text, &items, &out->count);
    out->items = items;
    return e;
}

static err read_session_children(conn *c, arena *a, store_client_session *cs)
{
    err e = read_id_list(c, a,
                         "SELECT connected_account_id FROM (" SESSION_ACCOUNTS("?") ") ORDER BY 1",
                         cs->client_session_id, &cs->connected_account_ids);
    if (err_failed(e))
        return e;
    return read_id_list(c, a,
                        "SELECT connect_webview_id FROM client_session_connect_webviews"
                        " WHERE client_session_id = ? ORDER BY 1",
                        cs->client_session_id, &cs->connect_webview_ids);
}

/* Runs a built SELECT of SESSION_COLUMNS and collects every row, each with
 * its account and webview ids. */
static err select_sessions(conn *c, arena *a, const sql_builder *b, store_client_session **out,
                           size_t *count)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare_built(c, b, &e);
    if (!st)
        return e;
    void *rows;
    if (err_failed(e = collect_rows(c, a, st, sizeof **out, read_session, &rows, count)))
        return e;
    *out = rows;
    for (size_t i = 0; i < *count && !err_failed(e); i++)
        e = read_session_children(c, a, &(*out)[i]);
    return e;
}

static err insert_grants(conn *c, const char *session_id, const store_client_session_grants *g)
{
    err e = ERR_NONE;
    for (size_t i = 0; i < g->connected_account_ids.count && !err_failed(e); i++)
        e = conn_exec(c, NULL, "INSERT OR IGNORE INTO client_session_connected_accounts"
                               " (client_session_id, connected_account_id) VALUES (?, ?)",
                      "ss", session_id, g->connected_account_ids.items[i]);
    for (size_t i = 0; i < g->connect_webview_ids.count && !err_failed(e); i++)
        e = conn_exec(c, NULL, "INSERT OR IGNORE INTO client_session_connect_webviews"
                               " (client_session_id, connect_webview_id) VALUES (?, ?)",
                      "ss", session_id, g->connect_webview_ids.items[i]);
    if (g->user_identity_id && !err_failed(e))
        e = conn_exec(c, NULL, "UPDATE client_sessions SET user_identity_id = ?"
                               " WHERE client_session_id = ?",
                      "ss", g->user_identity_id, session_id);
    return e;
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
        "DELETE FROM client_sessions WHERE client_session_id = ?2",
    };
    err e = ERR_NONE;
    for (size_t i = 0; i < sizeof steps / sizeof *steps && !err_failed(e); i++)
        e = conn_exec(c, NULL, steps[i], "ss", new_id, replaced_id);
    return e;
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
    if (replaces_id &&
        err_failed(e = conn_exec(c, NULL, "UPDATE client_sessions SET user_identifier_key = NULL"
                                          " WHERE client_session_id = ?",
                                 "s", replaces_id)))
        return finish(c, e);
    e = conn_exec(c, NULL, "INSERT INTO client_sessions (client_session_id, workspace_id,"
                           " user_identifier_key, token_hash, token_sealed, user_identity_id,"
                           " customer_key, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
                  "sszsszzii", cs->client_session_id, cs->workspace_id, cs->user_identifier_key,
                  token_hash, cs->token_sealed, cs->user_identity_id, cs->customer_key,
                  cs->created_at, cs->expires_at);
    if (err_failed(e) && sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE &&
        strstr(sqlite3_errmsg(c->db), "user_identifier_key"))
        e = err_make(ERR_BAD_REQUEST, "client_session_token_already_exists",
                     "A client session already exists for this user_identifier_key; use "
                     "client_sessions/get_or_create.");
    if (!err_failed(e))
        e = insert_grants(c, cs->client_session_id, grants);
    if (!err_failed(e) && replaces_id)
        e = replace_session(c, cs->client_session_id, replaces_id);
    return finish(c, e);
}

bool store_client_session_by_token_hash(store *s, arena *a, const char *token_hash,
                                        store_client_session *out, err *e)
{
    conn *c = get_conn(s, e);
    sqlite3_stmt *st = c ? prepare_args(c, e, "SELECT " SESSION_OWN_COLUMNS " FROM client_sessions cs"
                                              " WHERE cs.token_hash = ?",
                                        "s", token_hash)
                         : NULL;
    return st && collect_one(c, a, st, sizeof *out, read_session, out, e);
}

bool store_client_session_get(store *s, arena *a, const char *workspace_id, const char *id,
                              const char *user_identifier_key, store_client_session *out,
                              err *e)
{
    if (!id && !user_identifier_key)
        return false;
    store_client_session_filter f = {.client_session_id = id,
                                     .user_identifier_key = user_identifier_key};
    store_client_session *rows = NULL;
    size_t n = 0;
    *e = store_client_session_list(s, a, workspace_id, &f, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    *out = rows[0];
    return true;
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
    const struct {
        const char *value, *condition;
    } conditions[] = {
        {f->client_session_id, " AND cs.client_session_id = ?"},
        {f->user_identifier_key, " AND cs.user_identifier_key = ?"},
        {f->user_identity_id, " AND cs.user_identity_id = ?"},
        {f->connect_webview_id, " AND cs.client_session_id IN (SELECT client_session_id FROM"
                                " client_session_connect_webviews WHERE connect_webview_id = ?)"},
    };
    for (size_t i = 0; i < sizeof conditions / sizeof *conditions; i++) {
        if (conditions[i].value) {
            sql_builder_append(&b, conditions[i].condition);
            sql_builder_bind_text(&b, conditions[i].value);
        }
    }
    if (f->without_user_identifier_key)
        sql_builder_append(&b, " AND cs.user_identifier_key IS NULL");
    sql_builder_append(&b, " ORDER BY cs.created_at, cs.client_session_id");
    return select_sessions(c, a, &b, out, count);
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
    bool found = false;
    *e = conn_exec(c, &found, "UPDATE client_sessions SET expires_at ="
                              " CASE WHEN ?1 = 0 THEN expires_at ELSE ?1 END"
                              " WHERE workspace_id = ?2 AND client_session_id = ?3",
                   "iss", expires_at, workspace_id, id);
    if (found)
        *e = insert_grants(c, id, grants);
    *e = finish(c, *e);
    return found && !err_failed(*e);
}

bool store_client_session_revoke(store *s, const char *workspace_id, const char *id,
                                 int64_t now, err *e)
{
    bool changed = false;
    conn *c = get_conn(s, e);
    if (c)
        *e = conn_exec(c, &changed, "UPDATE client_sessions SET revoked_at = COALESCE(revoked_at, ?)"
                                    " WHERE workspace_id = ? AND client_session_id = ?",
                       "iss", now, workspace_id, id);
    return changed;
}

bool store_client_session_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    bool changed = false;
    conn *c = get_conn(s, e);
    if (c)
        *e = conn_exec(c, &changed, "DELETE FROM client_sessions"
                                    " WHERE workspace_id = ? AND client_session_id = ?",
                       "ss", workspace_id, id);
    return changed;
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
        sqlite3_stmt *st = prepare_args(c, e, sql[kind], "ss", workspace_id, ids->items[i]);
        if (!st)
            return -1;
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
    STORE_EXEC(s, "INSERT INTO connected_accounts (connected_account_id, workspace_id, provider,"
                  " user_email, created_at) VALUES (?,?,?,?,?)",
               "ssszi", ca->connected_account_id, ca->workspace_id, ca->provider, ca->user_email,
               ca->created_at);
}

err store_connect_webview_create(store *s, const store_connect_webview *cw)
{
    STORE_EXEC(s, "INSERT INTO connect_webviews (connect_webview_id, workspace_id,"
                  " connected_account_id, status, created_at) VALUES (?,?,?,?,?)",
               "sszsi", cw->connect_webview_id, cw->workspace_id, cw->connected_account_id,
               cw->status, cw->created_at);
}

err store_user_identity_create(store *s, const store_user_identity *ui)
{
    STORE_EXEC(s, "INSERT INTO user_identities (user_identity_id, workspace_id, user_identity_key,"
                  " email_address, phone_number, full_name, created_at) VALUES (?,?,?,?,?,?,?)",
               "sszzzzi", ui->user_identity_id, ui->workspace_id, ui->user_identity_key,
               ui->email_address, ui->phone_number, ui->full_name, ui->created_at);
}

/* ---- devices ---- */

#define DEVICE_COLUMNS                                                                     \
    "d.seq, d.device_id, d.workspace_id, d.connected_account_id, d.device_type,"           \
    " d.manufacturer, d.name, d.nickname, d.model, d.online, d.locked, d.battery_level,"   \
    " d.extra_properties, d.custom_metadata, d.created_at"

static void read_device(arena *a, sqlite3_stmt *st, void *row)
{
    store_device *d = row;
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
    STORE_EXEC(s, "INSERT INTO devices (device_id, workspace_id, connected_account_id, device_type,"
                  " manufacturer, name, nickname, model, online, locked, battery_level,"
                  " extra_properties, custom_metadata, created_at)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               "sssszszzbnfzzi", d->device_id, d->workspace_id, d->connected_account_id,
               d->device_type, d->manufacturer, d->name, d->nickname, d->model, (int)d->online,
               (int64_t)d->locked, d->battery_level, d->extra_properties, d->custom_metadata,
               d->created_at);
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
                          size_t *count)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare_built(c, b, &e);
    if (!st)
        return e;
    void *rows;
    e = collect_rows(c, a, st, sizeof **out, read_device, &rows, count);
    *out = rows;
    return e;
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
    return select_devices(c, a, &b, out, count);
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
    *e = select_devices(c, a, &b, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    *out = rows[0];
    return true;
}
