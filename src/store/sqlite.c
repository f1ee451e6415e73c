/* SQLite implementation of store.h: one connection per worker thread (opened
 * lazily, closed at thread exit), WAL mode, a per-connection cache of
 * prepared statements, and all scoping applied in SQL. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Runs a DELETE of one row by (workspace_id, id); tells whether it existed. */
static bool delete_in_workspace(store *s, const char *sql, const char *workspace_id,
                                const char *id, err *e)
{
    bool changed = false;
    conn *c = get_conn(s, e);
    if (c)
        *e = conn_exec(c, &changed, sql, "ss", workspace_id, id);
    return changed;
}

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
    void *rows = NULL;
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

/* The database holds every user_identifier_key and publishable key: its
 * files are the owner's alone, also when an older latchkey (or a wider
 * umask) created them readable by others. SQLite gives -wal and -shm the
 * database file's mode when it creates them. */
static void make_private(const char *path)
{
    static const char *const SUFFIXES[] = {"", "-wal", "-shm", "-journal"};
    char file[4096];
    for (size_t i = 0; i < sizeof SUFFIXES / sizeof *SUFFIXES; i++) {
        snprintf(file, sizeof file, "%s%s", path, SUFFIXES[i]);
        chmod(file, S_IRUSR | S_IWUSR); /* absent files: nothing to do */
    }
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
    make_private(path);
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

#define SESSION_WEBVIEWS(session)                                                          \
    "SELECT connect_webview_id FROM client_session_connect_webviews"                      \
    " WHERE client_session_id = " session

typedef enum scope_column {
    SCOPE_BY_ACCOUNT, /* rows with a connected_account_id column */
    SCOPE_BY_WEBVIEW, /* connect webviews, by their connect_webview_id */
} scope_column;

/* Appends " AND <alias>.workspace_id = ?", then for each session the scope
 * names (by id, or by user_identifier_key) a condition that keeps only what
 * that session holds: rows of its connected accounts, or its webviews. */
static void append_scope(sql_builder *b, const store_scope *scope, const char *alias,
                         scope_column column)
{
    sql_builder_appendf(b, " AND %s.workspace_id = ?", alias);
    sql_builder_bind_text(b, scope->workspace_id);
    const bool by_account = column == SCOPE_BY_ACCOUNT;
    const char *held = by_account ? "connected_account_id" : "connect_webview_id";
    if (scope->client_session_id) {
        sql_builder_appendf(b, " AND %s.%s IN (%s)", alias, held,
                            by_account ? SESSION_ACCOUNTS("?") : SESSION_WEBVIEWS("?"));
        for (int i = 0; i < (by_account ? 2 : 1); i++)
            sql_builder_bind_text(b, scope->client_session_id);
    }
    if (scope->user_identifier_key) {
        sql_builder_appendf(b, " AND %s.%s IN (%s)", alias, held,
                            by_account ? SESSION_ACCOUNTS(USER_SESSION)
                                       : SESSION_WEBVIEWS(USER_SESSION));
        for (int i = 0; i < (by_account ? 2 : 1); i++) {
            sql_builder_bind_text(b, scope->workspace_id);
            sql_builder_bind_text(b, scope->user_identifier_key);
        }
    }
}

/* " AND json_extract(<column>, '$."key"') = value" for each pair. */
static void append_metadata(sql_builder *b, const char *column, const metadata_filter *m)
{
    for (size_t i = 0; m && i < m->count; i++) {
        const metadata_match *x = &m->items[i];
        const char *path = arena_sprintf(b->a, "$.\"%s\"", x->key);
        if (x->is_bool) {
            sql_builder_appendf(b, " AND json_type(%s, ?) = ?", column);
            sql_builder_bind_text(b, path);
            sql_builder_bind_text(b, x->bool_value ? "true" : "false");
        } else {
            sql_builder_appendf(b, " AND json_type(%s, ?) = 'text' AND json_extract(%s, ?) = ?",
                                column, column);
            sql_builder_bind_text(b, path);
            sql_builder_bind_text(b, path);
            sql_builder_bind_text(b, x->str_value);
        }
    }
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

/* " AND <alias>.seq > ? ORDER BY <alias>.seq LIMIT ?" */
static void append_page(sql_builder *b, const char *alias, const store_page *page)
{
    sql_builder_appendf(b, " AND %s.seq > ? ORDER BY %s.seq LIMIT ?", alias, alias);
    sql_builder_bind_int(b, page->after_seq);
    sql_builder_bind_int(b, (int64_t)page->limit);
}

/* Prepares a built query and collects its rows. */
static err select_built(conn *c, arena *a, const sql_builder *b, size_t elem, row_reader read,
                        void **out, size_t *count)
{
    err e = ERR_NONE;
    sqlite3_stmt *st = prepare_built(c, b, &e);
    if (!st)
        return e;
    return collect_rows(c, a, st, elem, read, out, count);
}

/* The first row of a built query, if any. */
static bool select_built_one(conn *c, arena *a, const sql_builder *b, size_t elem,
                             row_reader read, void *out, err *e)
{
    void *rows = NULL;
    size_t n = 0;
    *e = select_built(c, a, b, elem, read, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    memcpy(out, rows, elem);
    return true;
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
    "cs.seq, cs.client_session_id, cs.workspace_id, cs.user_identifier_key, cs.token_sealed,"\
    " cs.user_identity_id, cs.customer_key, cs.created_at, cs.expires_at, cs.revoked_at"
#define SESSION_COLUMNS                                                                    \
    SESSION_OWN_COLUMNS ", (SELECT COUNT(*) FROM devices d"                               \
    " WHERE d.workspace_id = cs.workspace_id"                                              \
    " AND d.connected_account_id IN (" SESSION_ACCOUNTS("cs.client_session_id") "))"

static void read_session(arena *a, sqlite3_stmt *st, void *row)
{
    store_client_session *cs = row;
    cs->seq = sqlite3_column_int64(st, 0);
    cs->client_session_id = col_text(a, st, 1);
    cs->workspace_id = col_text(a, st, 2);
    cs->user_identifier_key = col_text(a, st, 3);
    cs->token_sealed = col_text(a, st, 4);
    cs->user_identity_id = col_text(a, st, 5);
    cs->customer_key = col_text(a, st, 6);
    cs->created_at = sqlite3_column_int64(st, 7);
    cs->expires_at = sqlite3_column_int64(st, 8);
    cs->revoked_at = sqlite3_column_int64(st, 9);
    if (sqlite3_column_count(st) > 10)
        cs->device_count = sqlite3_column_int64(st, 10);
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
    void *items = NULL;
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
    void *rows = NULL;
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
    /* The writer holds the database (BEGIN IMMEDIATE): MAX(seq) + 1 is unique. */
    e = conn_exec(c, NULL, "INSERT INTO client_sessions (client_session_id, workspace_id,"
                           " user_identifier_key, token_hash, token_sealed, user_identity_id,"
                           " customer_key, created_at, expires_at, seq) VALUES (?,?,?,?,?,?,?,?,?,"
                           " (SELECT COALESCE(MAX(seq), 0) + 1 FROM client_sessions))",
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
    *e = store_client_session_list(s, a, workspace_id, &f, NULL, &rows, &n);
    if (err_failed(*e) || n == 0)
        return false;
    *out = rows[0];
    return true;
}

err store_client_session_list(store *s, arena *a, const char *workspace_id,
                              const store_client_session_filter *f, const store_page *page,
                              store_client_session **out, size_t *count)
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
    if (page)
        append_page(&b, "cs", page);
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
    return delete_in_workspace(s, "DELETE FROM client_sessions WHERE workspace_id = ? AND client_session_id = ?",
                               workspace_id, id, e);
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

/* Runs a write on this thread's connection; *changed tells whether it
 * changed a row. */
#define STORE_CHANGE(s, e, changed, ...)                                                   \
    do {                                                                                   \
        conn *c_ = get_conn((s), (e));                                                     \
        if (c_)                                                                            \
            *(e) = conn_exec(c_, (changed), __VA_ARGS__);                                  \
    } while (0)

/* Starts a built query on this thread's connection: `SELECT columns FROM
 * table alias WHERE 1`. */
static conn *start_select(store *s, arena *a, sql_builder *b, const char *columns,
                          const char *table, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return NULL;
    sql_builder_init(b, a);
    sql_builder_appendf(b, "SELECT %s FROM %s WHERE 1", columns, table);
    return c;
}

static void append_text_eq(sql_builder *b, const char *column, const char *value)
{
    if (value) {
        sql_builder_appendf(b, " AND %s = ?", column);
        sql_builder_bind_text(b, value);
    }
}

/* A LIKE pattern (with ESCAPE '\\') matching text that contains s
 * literally: '%', '_' and '\\' in s match only themselves. */
static const char *like_contains(arena *a, const char *s)
{
    char *out = arena_alloc(a, 2 * strlen(s) + 3), *o = out;
    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* ---- connected accounts ---- */

#define ACCOUNT_COLUMNS                                                                    \
    "ca.seq, ca.connected_account_id, ca.workspace_id, ca.provider, ca.user_email,"        \
    " ca.provider_login, ca.display_name, ca.custom_metadata, ca.created_at"

static void read_account(arena *a, sqlite3_stmt *st, void *row)
{
    store_connected_account *ca = row;
    ca->seq = sqlite3_column_int64(st, 0);
    ca->connected_account_id = col_text(a, st, 1);
    ca->workspace_id = col_text(a, st, 2);
    ca->provider = col_text(a, st, 3);
    ca->user_email = col_text(a, st, 4);
    ca->provider_login = col_text(a, st, 5);
    ca->display_name = col_text(a, st, 6);
    ca->custom_metadata = col_text(a, st, 7);
    ca->created_at = sqlite3_column_int64(st, 8);
}

err store_connected_account_create(store *s, const store_connected_account *ca)
{
    STORE_EXEC(s, "INSERT INTO connected_accounts (connected_account_id, workspace_id, provider,"
                  " user_email, provider_login, display_name, custom_metadata, created_at)"
                  " VALUES (?,?,?,?,?,?,?,?)",
               "ssszzzzi", ca->connected_account_id, ca->workspace_id, ca->provider,
               ca->user_email, ca->provider_login, ca->display_name, ca->custom_metadata,
               ca->created_at);
}

bool store_connected_account_by_login(store *s, arena *a, const char *workspace_id,
                                      const char *provider, const char *login,
                                      store_connected_account *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, ACCOUNT_COLUMNS, "connected_accounts ca", e);
    if (!c)
        return false;
    append_text_eq(&b, "ca.workspace_id", workspace_id);
    append_text_eq(&b, "ca.provider", provider);
    append_text_eq(&b, "ca.provider_login", login);
    return select_built_one(c, a, &b, sizeof *out, read_account, out, e);
}

bool store_connected_account_get(store *s, arena *a, const store_scope *scope, const char *id,
                                 const char *email, store_connected_account *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, ACCOUNT_COLUMNS, "connected_accounts ca", e);
    if (!c || (!id && !email))
        return false;
    append_scope(&b, scope, "ca", SCOPE_BY_ACCOUNT);
    append_text_eq(&b, "ca.connected_account_id", id);
    if (!id)
        append_text_eq(&b, "ca.user_email", email);
    sql_builder_append(&b, " ORDER BY ca.seq LIMIT 1");
    return select_built_one(c, a, &b, sizeof *out, read_account, out, e);
}

err store_connected_account_list(store *s, arena *a, const store_scope *scope,
                                 const metadata_filter *metadata, const store_page *page,
                                 store_connected_account **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, ACCOUNT_COLUMNS, "connected_accounts ca", &e);
    if (!c)
        return e;
    append_scope(&b, scope, "ca", SCOPE_BY_ACCOUNT);
    append_metadata(&b, "ca.custom_metadata", metadata);
    append_page(&b, "ca", page);
    return select_built(c, a, &b, sizeof **out, read_account, (void **)out, count);
}

bool store_connected_account_update(store *s, const char *workspace_id, const char *id,
                                    const char *display_name, const char *custom_metadata,
                                    err *e)
{
    bool changed = false;
    STORE_CHANGE(s, e, &changed,
                 "UPDATE connected_accounts SET display_name = COALESCE(?, display_name),"
                 " custom_metadata = COALESCE(?, custom_metadata)"
                 " WHERE workspace_id = ? AND connected_account_id = ?",
                 "zzss", display_name, custom_metadata, workspace_id, id);
    return changed;
}

bool store_connected_account_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    return delete_in_workspace(s, "DELETE FROM connected_accounts WHERE workspace_id = ? AND connected_account_id = ?",
                               workspace_id, id, e);
}

/* ---- connect webviews ---- */

#define WEBVIEW_COLUMNS                                                                    \
    "cw.seq, cw.connect_webview_id, cw.workspace_id, cw.connected_account_id, cw.status,"  \
    " cw.auth_token_sealed, cw.accepted_providers, cw.custom_redirect_url,"                \
    " cw.custom_redirect_failure_url, cw.custom_metadata, cw.device_selection_mode,"       \
    " cw.selected_provider, cw.login_successful, cw.failed_logins, cw.error,"              \
    " cw.authorized_at, cw.created_at"

static void read_webview(arena *a, sqlite3_stmt *st, void *row)
{
    store_connect_webview *cw = row;
    cw->seq = sqlite3_column_int64(st, 0);
    cw->connect_webview_id = col_text(a, st, 1);
    cw->workspace_id = col_text(a, st, 2);
    cw->connected_account_id = col_text(a, st, 3);
    cw->status = col_text(a, st, 4);
    cw->auth_token_sealed = col_text(a, st, 5);
    cw->accepted_providers = col_text(a, st, 6);
    cw->custom_redirect_url = col_text(a, st, 7);
    cw->custom_redirect_failure_url = col_text(a, st, 8);
    cw->custom_metadata = col_text(a, st, 9);
    cw->device_selection_mode = col_text(a, st, 10);
    cw->selected_provider = col_text(a, st, 11);
    cw->login_successful = sqlite3_column_int(st, 12) != 0;
    cw->failed_logins = sqlite3_column_int64(st, 13);
    cw->error = col_text(a, st, 14);
    cw->authorized_at = sqlite3_column_int64(st, 15);
    cw->created_at = sqlite3_column_int64(st, 16);
}

err store_connect_webview_create(store *s, const store_connect_webview *cw)
{
    STORE_EXEC(s, "INSERT INTO connect_webviews (connect_webview_id, workspace_id,"
                  " connected_account_id, status, auth_token_sealed, accepted_providers,"
                  " custom_redirect_url, custom_redirect_failure_url, custom_metadata,"
                  " device_selection_mode, login_successful, authorized_at, created_at)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               "sszszszzzsbni", cw->connect_webview_id, cw->workspace_id,
               cw->connected_account_id, cw->status, cw->auth_token_sealed,
               cw->accepted_providers ? cw->accepted_providers : "", cw->custom_redirect_url,
               cw->custom_redirect_failure_url, cw->custom_metadata,
               cw->device_selection_mode ? cw->device_selection_mode : "none",
               (int)cw->login_successful, cw->authorized_at ? cw->authorized_at : (int64_t)-1,
               cw->created_at);
}

bool store_connect_webview_get(store *s, arena *a, const store_scope *scope, const char *id,
                               store_connect_webview *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, WEBVIEW_COLUMNS, "connect_webviews cw", e);
    if (!c)
        return false;
    append_scope(&b, scope, "cw", SCOPE_BY_WEBVIEW);
    append_text_eq(&b, "cw.connect_webview_id", id);
    return select_built_one(c, a, &b, sizeof *out, read_webview, out, e);
}

bool store_connect_webview_for_page(store *s, arena *a, const char *id,
                                    store_connect_webview *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, WEBVIEW_COLUMNS, "connect_webviews cw", e);
    if (!c)
        return false;
    append_text_eq(&b, "cw.connect_webview_id", id);
    return select_built_one(c, a, &b, sizeof *out, read_webview, out, e);
}

err store_connect_webview_list(store *s, arena *a, const store_scope *scope,
                               const metadata_filter *metadata, const store_page *page,
                               store_connect_webview **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, WEBVIEW_COLUMNS, "connect_webviews cw", &e);
    if (!c)
        return e;
    append_scope(&b, scope, "cw", SCOPE_BY_WEBVIEW);
    append_metadata(&b, "cw.custom_metadata", metadata);
    append_page(&b, "cw", page);
    return select_built(c, a, &b, sizeof **out, read_webview, (void **)out, count);
}

bool store_connect_webview_update(store *s, const store_connect_webview *cw, err *e)
{
    bool changed = false;
    STORE_CHANGE(s, e, &changed,
                 "UPDATE connect_webviews SET status = ?, connected_account_id = ?,"
                 " selected_provider = ?, login_successful = ?, error = ?, authorized_at = ?"
                 " WHERE workspace_id = ? AND connect_webview_id = ? AND status = 'pending'",
                 "szzbznss", cw->status, cw->connected_account_id, cw->selected_provider,
                 (int)cw->login_successful, cw->error,
                 cw->authorized_at ? cw->authorized_at : (int64_t)-1, cw->workspace_id,
                 cw->connect_webview_id);
    return changed;
}

int64_t store_connect_webview_failed_login(store *s, const char *workspace_id, const char *id,
                                           err *e)
{
    int64_t n = -1;
    conn *c = get_conn(s, e);
    sqlite3_stmt *st =
        c ? prepare_args(c, e,
                         "UPDATE connect_webviews SET failed_logins = failed_logins + 1"
                         " WHERE workspace_id = ? AND connect_webview_id = ? AND status = 'pending'"
                         " RETURNING failed_logins",
                         "ss", workspace_id, id)
          : NULL;
    if (st) {
        arena a;
        arena_init(&a);
        collect_one(c, &a, st, sizeof n, read_int, &n, e);
        arena_free(&a);
    }
    return n;
}

bool store_connect_webview_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    return delete_in_workspace(s, "DELETE FROM connect_webviews WHERE workspace_id = ? AND connect_webview_id = ?",
                               workspace_id, id, e);
}

/* ---- user identities ---- */

#define IDENTITY_COLUMNS                                                                   \
    "ui.seq, ui.user_identity_id, ui.workspace_id, ui.user_identity_key, ui.email_address,"\
    " ui.phone_number, ui.full_name, ui.created_at"

static void read_identity(arena *a, sqlite3_stmt *st, void *row)
{
    store_user_identity *ui = row;
    ui->seq = sqlite3_column_int64(st, 0);
    ui->user_identity_id = col_text(a, st, 1);
    ui->workspace_id = col_text(a, st, 2);
    ui->user_identity_key = col_text(a, st, 3);
    ui->email_address = col_text(a, st, 4);
    ui->phone_number = col_text(a, st, 5);
    ui->full_name = col_text(a, st, 6);
    ui->created_at = sqlite3_column_int64(st, 7);
}

/* A unique violation on the identity key becomes its own error. */
static err identity_key_conflict(conn *c, err e)
{
    if (err_failed(e) && sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
        return err_make(ERR_BAD_REQUEST, "user_identity_key_already_exists",
                        "Another user identity in this workspace has this user_identity_key.");
    return e;
}

err store_user_identity_create(store *s, const store_user_identity *ui)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    e = conn_exec(c, NULL, "INSERT INTO user_identities (user_identity_id, workspace_id,"
                           " user_identity_key, email_address, phone_number, full_name, created_at)"
                           " VALUES (?,?,?,?,?,?,?)",
                  "sszzzzi", ui->user_identity_id, ui->workspace_id, ui->user_identity_key,
                  ui->email_address, ui->phone_number, ui->full_name, ui->created_at);
    return identity_key_conflict(c, e);
}

bool store_user_identity_get(store *s, arena *a, const char *workspace_id, const char *id,
                             const char *key, store_user_identity *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, IDENTITY_COLUMNS, "user_identities ui", e);
    if (!c || (!id && !key))
        return false;
    append_text_eq(&b, "ui.workspace_id", workspace_id);
    append_text_eq(&b, "ui.user_identity_id", id);
    if (!id)
        append_text_eq(&b, "ui.user_identity_key", key);
    return select_built_one(c, a, &b, sizeof *out, read_identity, out, e);
}

err store_user_identity_list(store *s, arena *a, const char *workspace_id,
                             const store_user_identity_filter *f, const store_page *page,
                             store_user_identity **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, IDENTITY_COLUMNS, "user_identities ui", &e);
    if (!c)
        return e;
    append_text_eq(&b, "ui.workspace_id", workspace_id);
    if (f->ids)
        append_in_list(&b, "ui.user_identity_id", f->ids);
    if (f->search) {
        const char *like = like_contains(a, f->search);
        sql_builder_append(&b, " AND (ui.user_identity_key LIKE ? ESCAPE '\\'"
                               " OR ui.email_address LIKE ? ESCAPE '\\'"
                               " OR ui.phone_number LIKE ? ESCAPE '\\'"
                               " OR ui.full_name LIKE ? ESCAPE '\\')");
        for (int i = 0; i < 4; i++)
            sql_builder_bind_text(&b, like);
    }
    if (f->created_before) {
        sql_builder_append(&b, " AND ui.created_at < ?");
        sql_builder_bind_int(&b, f->created_before);
    }
    append_page(&b, "ui", page);
    return select_built(c, a, &b, sizeof **out, read_identity, (void **)out, count);
}

bool store_user_identity_update(store *s, const store_user_identity *ui, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    bool changed = false;
    *e = identity_key_conflict(
        c, conn_exec(c, &changed,
                     "UPDATE user_identities SET user_identity_key = ?, email_address = ?,"
                     " phone_number = ?, full_name = ? WHERE workspace_id = ? AND user_identity_id = ?",
                     "zzzzss", ui->user_identity_key, ui->email_address, ui->phone_number,
                     ui->full_name, ui->workspace_id, ui->user_identity_id));
    return changed;
}

bool store_user_identity_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    return delete_in_workspace(s, "DELETE FROM user_identities WHERE workspace_id = ? AND user_identity_id = ?",
                               workspace_id, id, e);
}

/* ---- devices ---- */

#define DEVICE_COLUMNS                                                                     \
    "d.seq, d.device_id, d.workspace_id, d.connected_account_id, d.device_type,"           \
    " d.manufacturer, d.name, d.nickname, d.model, d.online, d.locked, d.battery_level,"   \
    " d.can_remotely_lock, d.can_remotely_unlock, d.provider_device_key,"                  \
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
    d->can_remotely_lock = sqlite3_column_int(st, 12) != 0;
    d->can_remotely_unlock = sqlite3_column_int(st, 13) != 0;
    d->provider_device_key = col_text(a, st, 14);
    d->extra_properties = col_text(a, st, 15);
    d->custom_metadata = col_text(a, st, 16);
    d->created_at = sqlite3_column_int64(st, 17);
}

err store_device_create(store *s, const store_device *d)
{
    STORE_EXEC(s, "INSERT INTO devices (device_id, workspace_id, connected_account_id, device_type,"
                  " manufacturer, name, nickname, model, online, locked, battery_level,"
                  " can_remotely_lock, can_remotely_unlock, provider_device_key,"
                  " extra_properties, custom_metadata, created_at)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               "sssszszzbnfbbzzzi", d->device_id, d->workspace_id, d->connected_account_id,
               d->device_type, d->manufacturer, d->name, d->nickname, d->model, (int)d->online,
               (int64_t)d->locked, d->battery_level, (int)d->can_remotely_lock,
               (int)d->can_remotely_unlock, d->provider_device_key, d->extra_properties,
               d->custom_metadata, d->created_at);
}

err store_device_upsert(store *s, arena *a, store_device *d, bool *created)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    if (!c)
        return e;
    const char *existing = NULL;
    sqlite3_stmt *st = prepare_args(c, &e, "SELECT device_id FROM devices"
                                           " WHERE connected_account_id = ? AND provider_device_key = ?",
                                    "ss", d->connected_account_id, d->provider_device_key);
    if (!st || !collect_one(c, a, st, sizeof existing, read_text, &existing, &e)) {
        if (err_failed(e))
            return e;
        *created = true;
        return store_device_create(s, d);
    }
    *created = false;
    d->device_id = existing;
    return conn_exec(c, NULL, "UPDATE devices SET device_type = ?, manufacturer = ?, name = ?,"
                              " model = ?, online = ?, locked = ?, battery_level = ?,"
                              " can_remotely_lock = ?, can_remotely_unlock = ?, extra_properties = ?"
                              " WHERE device_id = ?",
                     "szszbnfbbzs", d->device_type, d->manufacturer, d->name, d->model,
                     (int)d->online, (int64_t)d->locked, d->battery_level,
                     (int)d->can_remotely_lock, (int)d->can_remotely_unlock, d->extra_properties,
                     existing);
}

err store_device_list(store *s, arena *a, const store_scope *scope, const store_device_filter *f,
                      const store_page *page, store_device **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, DEVICE_COLUMNS, "devices d", &e);
    if (!c)
        return e;
    append_scope(&b, scope, "d", SCOPE_BY_ACCOUNT);
    if (f->device_ids)
        append_in_list(&b, "d.device_id", f->device_ids);
    if (f->connected_account_ids)
        append_in_list(&b, "d.connected_account_id", f->connected_account_ids);
    if (f->device_types)
        append_in_list(&b, "d.device_type", f->device_types);
    append_text_eq(&b, "d.manufacturer", f->manufacturer);
    if (f->connect_webview_id) {
        sql_builder_append(&b, " AND d.connected_account_id = (SELECT connected_account_id FROM"
                               " connect_webviews WHERE connect_webview_id = ? AND workspace_id = ?)");
        sql_builder_bind_text(&b, f->connect_webview_id);
        sql_builder_bind_text(&b, scope->workspace_id);
    }
    if (f->created_before) {
        sql_builder_append(&b, " AND d.created_at < ?");
        sql_builder_bind_int(&b, f->created_before);
    }
    if (f->search) {
        const char *like = like_contains(a, f->search);
        sql_builder_append(&b, " AND (d.name LIKE ? ESCAPE '\\' OR d.nickname LIKE ? ESCAPE '\\'"
                               " OR d.device_id = ?)");
        sql_builder_bind_text(&b, like);
        sql_builder_bind_text(&b, like);
        sql_builder_bind_text(&b, f->search);
    }
    append_metadata(&b, "d.custom_metadata", f->metadata);
    append_page(&b, "d", page);
    return select_built(c, a, &b, sizeof **out, read_device, (void **)out, count);
}

bool store_device_get(store *s, arena *a, const store_scope *scope, const char *device_id,
                      const char *name, store_device *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, DEVICE_COLUMNS, "devices d", e);
    if (!c)
        return false;
    append_scope(&b, scope, "d", SCOPE_BY_ACCOUNT);
    if (device_id) {
        append_text_eq(&b, "d.device_id", device_id);
    } else {
        sql_builder_append(&b, " AND (d.nickname = ? OR d.name = ?)");
        sql_builder_bind_text(&b, name);
        sql_builder_bind_text(&b, name);
    }
    sql_builder_append(&b, " ORDER BY d.seq LIMIT 1");
    return select_built_one(c, a, &b, sizeof *out, read_device, out, e);
}

bool store_device_update(store *s, const store_scope *scope, const char *id, const char *nickname,
                         const char *custom_metadata, err *e)
{
    conn *c = get_conn(s, e);
    if (!c)
        return false;
    sql_builder b;
    arena a;
    arena_init(&a);
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE devices SET nickname = CASE WHEN ? IS NULL THEN nickname"
                           " WHEN ? = '' THEN NULL ELSE ? END,"
                           " custom_metadata = COALESCE(?, custom_metadata)"
                           " WHERE device_id = ?");
    for (int i = 0; i < 3; i++)
        sql_builder_bind_text(&b, nickname);
    sql_builder_bind_text(&b, custom_metadata);
    sql_builder_bind_text(&b, id);
    /* The same scope as a read: a device outside it does not change. */
    sql_builder_append(&b, " AND device_id IN (SELECT d.device_id FROM devices d WHERE 1");
    append_scope(&b, scope, "d", SCOPE_BY_ACCOUNT);
    sql_builder_append(&b, ")");
    bool changed = false;
    sqlite3_stmt *st = prepare_built(c, &b, e);
    if (st) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            changed = sqlite3_changes(c->db) > 0;
        else
            *e = db_err(c->db, rc);
    }
    arena_free(&a);
    return changed;
}

bool store_device_set_locked(store *s, const char *device_id, bool locked, err *e)
{
    bool changed = false;
    STORE_CHANGE(s, e, &changed, "UPDATE devices SET locked = ? WHERE device_id = ?", "bs",
                 (int)locked, device_id);
    return changed;
}

bool store_device_delete(store *s, const char *workspace_id, const char *id, err *e)
{
    return delete_in_workspace(s, "DELETE FROM devices WHERE workspace_id = ? AND device_id = ?",
                               workspace_id, id, e);
}

/* ---- action attempts ---- */

#define ATTEMPT_COLUMNS                                                                    \
    "aa.seq, aa.action_attempt_id, aa.workspace_id, aa.device_id, aa.connected_account_id,"\
    " aa.action_type, aa.status, aa.error_type, aa.error_message, aa.created_at,"          \
    " aa.due_at, aa.completed_at"

static void read_attempt(arena *a, sqlite3_stmt *st, void *row)
{
    store_action_attempt *aa = row;
    aa->seq = sqlite3_column_int64(st, 0);
    aa->action_attempt_id = col_text(a, st, 1);
    aa->workspace_id = col_text(a, st, 2);
    aa->device_id = col_text(a, st, 3);
    aa->connected_account_id = col_text(a, st, 4);
    aa->action_type = col_text(a, st, 5);
    aa->status = col_text(a, st, 6);
    aa->error_type = col_text(a, st, 7);
    aa->error_message = col_text(a, st, 8);
    aa->created_at = sqlite3_column_int64(st, 9);
    aa->due_at = sqlite3_column_int64(st, 10);
    aa->completed_at = sqlite3_column_int64(st, 11);
}

err store_action_attempt_create(store *s, const store_action_attempt *aa)
{
    STORE_EXEC(s, "INSERT INTO action_attempts (action_attempt_id, workspace_id, device_id,"
                  " connected_account_id, action_type, status, created_at, due_at)"
                  " VALUES (?,?,?,?,?,?,?,?)",
               "ssssssii", aa->action_attempt_id, aa->workspace_id, aa->device_id,
               aa->connected_account_id, aa->action_type, aa->status, aa->created_at,
               aa->due_at);
}

bool store_action_attempt_get(store *s, arena *a, const store_scope *scope, const char *id,
                              store_action_attempt *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, ATTEMPT_COLUMNS, "action_attempts aa", e);
    if (!c)
        return false;
    append_scope(&b, scope, "aa", SCOPE_BY_ACCOUNT);
    append_text_eq(&b, "aa.action_attempt_id", id);
    return select_built_one(c, a, &b, sizeof *out, read_attempt, out, e);
}

err store_action_attempt_list(store *s, arena *a, const store_scope *scope, const str_list *ids,
                              const char *device_id, const store_page *page,
                              store_action_attempt **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, ATTEMPT_COLUMNS, "action_attempts aa", &e);
    if (!c)
        return e;
    append_scope(&b, scope, "aa", SCOPE_BY_ACCOUNT);
    if (ids)
        append_in_list(&b, "aa.action_attempt_id", ids);
    append_text_eq(&b, "aa.device_id", device_id);
    append_page(&b, "aa", page);
    return select_built(c, a, &b, sizeof **out, read_attempt, (void **)out, count);
}

err store_action_attempt_due(store *s, arena *a, int64_t now, size_t limit,
                             store_action_attempt **out, size_t *count)
{
    err e = ERR_NONE;
    conn *c = get_conn(s, &e);
    sqlite3_stmt *st = c ? prepare_args(c, &e, "SELECT " ATTEMPT_COLUMNS " FROM action_attempts aa"
                                               " WHERE aa.status = 'pending' AND aa.due_at <= ?"
                                               " ORDER BY aa.due_at, aa.seq LIMIT ?",
                                        "ii", now, (int64_t)limit)
                         : NULL;
    if (!st)
        return e;
    return collect_rows(c, a, st, sizeof **out, read_attempt, (void **)out, count);
}

int64_t store_action_attempt_next_due(store *s, err *e)
{
    arena a;
    arena_init(&a);
    int64_t next = 0;
    conn *c = get_conn(s, e);
    sqlite3_stmt *st = c ? prepare(c, "SELECT COALESCE(MIN(due_at), 0) FROM action_attempts"
                                      " WHERE status = 'pending'", e)
                         : NULL;
    if (st)
        collect_one(c, &a, st, sizeof next, read_int, &next, e);
    arena_free(&a);
    return next;
}

bool store_action_attempt_claim(store *s, const char *id, err *e)
{
    bool changed = false;
    STORE_CHANGE(s, e, &changed, "UPDATE action_attempts SET status = 'running'"
                                 " WHERE action_attempt_id = ? AND status = 'pending'",
                 "s", id);
    return changed;
}

err store_action_attempt_requeue_running(store *s)
{
    STORE_EXEC(s, "UPDATE action_attempts SET status = 'pending' WHERE status = 'running'", "");
}

err store_action_attempt_release(store *s, const char *id)
{
    STORE_EXEC(s, "UPDATE action_attempts SET status = 'pending'"
                  " WHERE action_attempt_id = ? AND status = 'running'", "s", id);
}

err store_action_attempt_finish(store *s, const char *id, const char *status,
                                const char *error_type, const char *error_message,
                                int64_t completed_at)
{
    STORE_EXEC(s, "UPDATE action_attempts SET status = ?, error_type = ?, error_message = ?,"
                  " completed_at = ? WHERE action_attempt_id = ?",
               "szzis", status, error_type, error_message, completed_at, id);
}

/* ---- events ---- */

#define EVENT_COLUMNS                                                                      \
    "ev.seq, ev.event_id, ev.workspace_id, ev.event_type, ev.device_id,"                   \
    " ev.connected_account_id, ev.connect_webview_id, ev.client_session_id,"               \
    " ev.action_attempt_id, ev.created_at"

static void read_event(arena *a, sqlite3_stmt *st, void *row)
{
    store_event *ev = row;
    ev->seq = sqlite3_column_int64(st, 0);
    ev->event_id = col_text(a, st, 1);
    ev->workspace_id = col_text(a, st, 2);
    ev->event_type = col_text(a, st, 3);
    ev->device_id = col_text(a, st, 4);
    ev->connected_account_id = col_text(a, st, 5);
    ev->connect_webview_id = col_text(a, st, 6);
    ev->client_session_id = col_text(a, st, 7);
    ev->action_attempt_id = col_text(a, st, 8);
    ev->created_at = sqlite3_column_int64(st, 9);
}

err store_event_add(store *s, const store_event *ev)
{
    STORE_EXEC(s, "INSERT INTO events (event_id, workspace_id, event_type, device_id,"
                  " connected_account_id, connect_webview_id, client_session_id,"
                  " action_attempt_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
               "ssszzzzzi", ev->event_id, ev->workspace_id, ev->event_type, ev->device_id,
               ev->connected_account_id, ev->connect_webview_id, ev->client_session_id,
               ev->action_attempt_id, ev->created_at);
}

bool store_event_get(store *s, arena *a, const store_scope *scope, const char *event_id,
                     store_event *out, err *e)
{
    sql_builder b;
    conn *c = start_select(s, a, &b, EVENT_COLUMNS, "events ev", e);
    if (!c)
        return false;
    append_scope(&b, scope, "ev", SCOPE_BY_ACCOUNT);
    append_text_eq(&b, "ev.event_id", event_id);
    return select_built_one(c, a, &b, sizeof *out, read_event, out, e);
}

err store_event_list(store *s, arena *a, const store_scope *scope, const store_event_filter *f,
                     const store_page *page, store_event **out, size_t *count)
{
    err e = ERR_NONE;
    sql_builder b;
    conn *c = start_select(s, a, &b, EVENT_COLUMNS, "events ev", &e);
    if (!c)
        return e;
    append_scope(&b, scope, "ev", SCOPE_BY_ACCOUNT);
    if (f->since) {
        sql_builder_append(&b, " AND ev.created_at >= ?");
        sql_builder_bind_int(&b, f->since);
    }
    if (f->until) {
        sql_builder_append(&b, " AND ev.created_at <= ?");
        sql_builder_bind_int(&b, f->until);
    }
    if (f->device_ids)
        append_in_list(&b, "ev.device_id", f->device_ids);
    if (f->event_types)
        append_in_list(&b, "ev.event_type", f->event_types);
    append_text_eq(&b, "ev.connected_account_id", f->connected_account_id);
    append_text_eq(&b, "ev.connect_webview_id", f->connect_webview_id);
    append_page(&b, "ev", page);
    return select_built(c, a, &b, sizeof **out, read_event, (void **)out, count);
}
