/* The SQLite driver: one connection per thread in WAL mode, a cache of
 * prepared statements per connection, and SQLite's result codes turned into
 * the driver interface's classes. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/db_driver.h"
#include "store/db_sqlite_file.h"

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
    sqlite_file *file;   /* what the process's connections to the file share */
    bool writing;        /* holds the file's writer lock */
    bool committed;      /* committed since the WAL was last synced for it */
    bool relaxed;        /* commits not waited for on disk (db_relax_durability) */
    unsigned stats_seen; /* stats_version when it opened */
} conn;

/* Planner statistics. ANALYZE (db_maintain, on one thread's connection)
 * stores them, but a connection reads them only when it loads the schema:
 * the others would plan with those of the moment they opened for good (for
 * a database that was small then: walking the workspace's devices for a
 * session that holds five). So each ANALYZE of this process counts in
 * stats_version, and an idle connection opened before the last one is
 * replaced by a new one (alive() tells db.c), which reads them afresh. */
static atomic_uint stats_version;

/* Statistics taken while a table was small (a few action attempts, all
 * alike) tell the planner that reading it whole costs nothing, and it goes
 * on doing so as the table grows to millions. So each ANALYZE notes how far
 * each table's rowids had got, and stats_outdated says when a table has
 * since had as many rows added as it had then (and at least
 * GROWN_ROWS): the server looks every few seconds and analyzes anew. */
enum { MAX_TABLES = 64, GROWN_ROWS = 1000 };
static struct {
    pthread_mutex_t lock;
    size_t n;
    struct {
        char name[64];
        int64_t rowid; /* the largest at the last ANALYZE */
    } t[MAX_TABLES];
} sizes = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Each rowid table of the database and its largest rowid, to fn. */
static void each_table(sqlite3 *h, void (*fn)(const char *name, int64_t rowid, void *ctx),
                       void *ctx)
{
    sqlite3_stmt *tables = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT name FROM sqlite_schema WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite%' AND sql NOT LIKE '%WITHOUT ROWID%'",
                           -1, &tables, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char sql[128];
        sqlite3_stmt *top = NULL;
        if (!name || strlen(name) >= sizeof sizes.t[0].name)
            continue;
        snprintf(sql, sizeof sql, "SELECT MAX(rowid) FROM \"%s\"", name);
        if (sqlite3_prepare_v2(h, sql, -1, &top, NULL) == SQLITE_OK &&
            sqlite3_step(top) == SQLITE_ROW)
            fn(name, sqlite3_column_int64(top, 0), ctx);
        sqlite3_finalize(top);
    }
    sqlite3_finalize(tables);
}

static void note_size(const char *name, int64_t rowid, void *ctx)
{
    (void)ctx;
    if (sizes.n < MAX_TABLES) {
        snprintf(sizes.t[sizes.n].name, sizeof sizes.t[0].name, "%s", name);
        sizes.t[sizes.n++].rowid = rowid;
    }
}

static void check_size(const char *name, int64_t rowid, void *ctx)
{
    bool *grown = ctx;
    int64_t then = 0;
    for (size_t i = 0; i < sizes.n; i++)
        if (strcmp(sizes.t[i].name, name) == 0)
            then = sizes.t[i].rowid;
    if (rowid - then >= GROWN_ROWS && rowid - then >= then)
        *grown = true;
}

static bool in_transaction(void *p) { return !sqlite3_get_autocommit(((conn *)p)->db); }

static bool stats_outdated(void *p)
{
    bool grown = false;
    pthread_mutex_lock(&sizes.lock);
    each_table(((conn *)p)->db, check_size, &grown);
    pthread_mutex_unlock(&sizes.lock);
    return grown;
}

static void log_error(sqlite3 *h, int rc)
{
    fprintf(stderr, "sqlite: %s (%d)\n", h ? sqlite3_errmsg(h) : sqlite3_errstr(rc), rc);
}

static void disconnect(void *p)
{
    conn *c = p;
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

/* Process-wide settings, before SQLite initialises: connections are never
 * shared between threads, and memory statistics (a global mutex) are off. */
static void configure_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

/* Before each commit (sqlite3_commit_hook): the WAL will need syncing for
 * it once the transaction is over. */
static int on_commit(void *p)
{
    ((conn *)p)->committed = true;
    return 0;
}

/* Waits, outside the writer lock, for the last commit to be on disk. */
static db_status settle(conn *c)
{
    if (!c->committed)
        return DB_DONE;
    c->committed = false;
    if (c->relaxed) /* on disk with the next commit that waits, or a checkpoint */
        return DB_DONE;
    int rc = sqlite_file_sync(c->file, c->db);
    if (rc == SQLITE_OK)
        return DB_DONE;
    log_error(c->db, rc);
    return DB_FAILED;
}

/* A statement outside a transaction that wrote: settled at once. */
static db_status settle_autocommit(conn *c, db_status st)
{
    if (c->writing || !sqlite3_get_autocommit(c->db))
        return st;
    db_status settled = settle(c);
    return st == DB_DONE ? settled : st;
}

static void relax(void *p) { ((conn *)p)->relaxed = true; }

static void write_begin(void *p)
{
    conn *c = p;
    sqlite_file_write_lock(c->file);
    c->writing = true;
}

static db_status write_end(void *p)
{
    conn *c = p;
    c->writing = false;
    sqlite_file_write_unlock(c->file);
    return settle(c);
}

/* Checkpoints, after each commit (sqlite3_wal_hook, in place of SQLite's
 * automatic checkpoint). Past CHECKPOINT_FRAMES (SQLite's default) the WAL
 * is copied back into the database without waiting for anyone, as SQLite
 * does. But a WAL starts over from its beginning only when no reader is
 * still reading it, and under steady writes with concurrent readers there
 * always is one: it grew without end (537 MiB in 30 s of
 * client_sessions/create beside 32 clients paging client_sessions/list).
 * Past RESTART_FRAMES (16 MiB of 4 KiB pages) the checkpoint therefore
 * also waits, at most RESTART_WAIT_MS, for the readers still in the WAL
 * (new readers go on, from the database file), so that the next write
 * starts it over; one that cannot is tried again at the next commit. It
 * runs in the committing thread, which still holds the writer lock:
 * writers wait meanwhile (about 10 ms), readers do not. */
enum {
    BUSY_TIMEOUT_MS = 5000,
    CHECKPOINT_FRAMES = 1000,
    RESTART_FRAMES = 4096,
    RESTART_WAIT_MS = 100,
};

static int on_wal_commit(void *p, sqlite3 *h, const char *name, int frames)
{
    (void)p;
    if (frames < CHECKPOINT_FRAMES)
        return SQLITE_OK;
    if (frames < RESTART_FRAMES) {
        sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    sqlite3_busy_timeout(h, RESTART_WAIT_MS);
    sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
    return SQLITE_OK; /* a checkpoint that could not finish is no error of the commit */
}

static void *connect_db(const char *path, char *why, size_t whylen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_once);
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    c->stats_seen = atomic_load(&stats_version);
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK && !(c->file = sqlite_file_of(path)))
        rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        sqlite3_commit_hook(c->db, on_commit, c);
        /* journal_size_limit: a WAL that grew beyond RESTART_FRAMES (a
         * large transaction) is cut back to 16 MiB when it starts over. */
        rc = sqlite3_exec(c->db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          "PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=16777216;",
                          NULL, NULL, NULL);
        sqlite3_wal_hook(c->db, on_wal_commit, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(why, whylen, "cannot open %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        disconnect(c);
        return NULL;
    }
    return c;
}

static bool alive(void *p)
{
    return ((conn *)p)->stats_seen == atomic_load(&stats_version);
}

/* A prepared statement for sql from the connection's cache, reset and with
 * its bindings cleared; NULL (and *rc) when it does not prepare. */
static sqlite3_stmt *prepare(conn *c, const char *sql, int *rc)
{
    uint64_t hash = db_hash(sql);
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
        if (c->cache[i].hash == hash && c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0) {
            sqlite3_reset(c->cache[i].stmt);
            sqlite3_clear_bindings(c->cache[i].stmt);
            return c->cache[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    *rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (*rc != SQLITE_OK)
        return NULL;
    cached_stmt *slot = &c->cache[c->next_evict];
    c->next_evict = (c->next_evict + 1) % STMT_CACHE_SIZE;
    sqlite3_finalize(slot->stmt);
    free(slot->sql);
    slot->hash = hash;
    slot->sql = strdup(sql);
    slot->stmt = st;
    return st;
}

static void bind(sqlite3_stmt *st, const sql_builder *q)
{
    for (size_t i = 0; i < q->nbinds; i++) {
        const sql_bind *v = &q->binds[i];
        int idx = (int)i + 1;
        if (v->is_null)
            sqlite3_bind_null(st, idx);
        else if (v->type == SQL_TEXT)
            sqlite3_bind_text(st, idx, v->text, -1, SQLITE_STATIC);
        else if (v->type == SQL_REAL)
            sqlite3_bind_double(st, idx, v->f);
        else
            sqlite3_bind_int64(st, idx, v->i);
    }
}

/* The unique index a failed statement violated. SQLite names only the
 * columns ("UNIQUE constraint failed: t.a, t.b"), so the driver finds the
 * unique index of that table on exactly those columns, preferring one made
 * by CREATE UNIQUE INDEX (whose name the schema chose) to an automatic one. */
static void violated_index(sqlite3 *h, char name[DB_NAME_MAX])
{
    static const char PREFIX[] = "UNIQUE constraint failed: ";
    const char *msg = sqlite3_errmsg(h);
    if (strncmp(msg, PREFIX, sizeof PREFIX - 1) != 0)
        return;
    char columns[512] = "", table[128] = "";
    const char *p = msg + sizeof PREFIX - 1;
    for (size_t n = 0; *p && n + 1 < sizeof columns;) {
        const char *dot = strchr(p, '.');
        const char *end = strstr(p, ", ");
        if (!dot)
            return;
        snprintf(table, sizeof table, "%.*s", (int)(dot - p), p);
        size_t len = end ? (size_t)(end - dot - 1) : strlen(dot + 1);
        n += (size_t)snprintf(columns + n, sizeof columns - n, "%s%.*s", n ? "," : "", (int)len,
                              dot + 1);
        if (!end)
            break;
        p = end + 2;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT il.name FROM pragma_index_list(?1) il WHERE il.\"unique\""
                           " AND (SELECT group_concat(name, ',') FROM (SELECT ii.name FROM"
                           " pragma_index_info(il.name) ii ORDER BY ii.seqno)) = ?2"
                           " ORDER BY il.origin = 'c' DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, columns, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(name, DB_NAME_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static db_status status_of(conn *c, int rc, char constraint[DB_NAME_MAX])
{
    int ext = sqlite3_extended_errcode(c->db);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return DB_BUSY;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        violated_index(c->db, constraint);
        return DB_UNIQUE;
    }
    log_error(c->db, rc);
    return DB_FAILED;
}

static db_status run(void *p, const sql_builder *q, db_row_fn fn, void *ctx, int64_t *changes,
                     char constraint[DB_NAME_MAX])
{
    conn *c = p;
    int rc = SQLITE_OK;
    sqlite3_stmt *st = prepare(c, sql_builder_text(q), &rc);
    if (!st)
        return status_of(c, rc, constraint);
    bind(st, q);
    db_row row = {&db_sqlite_driver, st, 0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn)
            fn(&row, ctx);
        row.index++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return settle_autocommit(c, status_of(c, rc, constraint));
    *changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes(c->db);
    return settle_autocommit(c, DB_DONE);
}

static db_status script(void *p, const char *sql)
{
    conn *c = p;
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc == SQLITE_OK && strstr(sql, "ANALYZE")) {
        pthread_mutex_lock(&sizes.lock);
        sizes.n = 0;
        each_table(c->db, note_size, NULL);
        pthread_mutex_unlock(&sizes.lock);
        atomic_fetch_add(&stats_version, 1);
    }
    char ignored[DB_NAME_MAX];
    return settle_autocommit(c, rc == SQLITE_OK ? DB_DONE : status_of(c, rc, ignored));
}

#define STMT(r) ((sqlite3_stmt *)(r)->impl)

static bool col_null(const db_row *r, int col) { return sqlite3_column_type(STMT(r), col) == SQLITE_NULL; }

static const char *col_text(const db_row *r, int col, size_t *len)
{
    const char *t = (const char *)sqlite3_column_text(STMT(r), col);
    *len = (size_t)sqlite3_column_bytes(STMT(r), col);
    return t;
}

static int64_t col_int(const db_row *r, int col) { return sqlite3_column_int64(STMT(r), col); }

static double col_real(const db_row *r, int col) { return sqlite3_column_double(STMT(r), col); }

static bool col_bool(const db_row *r, int col) { return sqlite3_column_int(STMT(r), col) != 0; }

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

const db_driver db_sqlite_driver = {
    .backend = DB_SQLITE,
    .begin_sql = "BEGIN IMMEDIATE",
    .begin_read_sql = "BEGIN DEFERRED",
    .connect = connect_db,
    .disconnect = disconnect,
    .alive = alive,
    .run = run,
    .script = script,
    .write_begin = write_begin,
    .write_end = write_end,
    .transaction_open = in_transaction,
    .relax = relax,
    .col_null = col_null,
    .col_text = col_text,
    .col_int = col_int,
    .col_real = col_real,
    .col_bool = col_bool,
    .migrations = sqlite_migrations,
    .nmigrations = &sqlite_migrations_count,
    .opened = make_private,
    /* Without statistics SQLite takes a workspace's device index (in seq
     * order, so no sort) over the accounts' index, and walks every device
     * of the workspace for a session that holds five. ANALYZE of up to
     * 20,000 rows an index takes milliseconds and tells them apart. */
    .maintain_sql = "PRAGMA analysis_limit=20000; ANALYZE; PRAGMA analysis_limit=0",
    .stats_outdated = stats_outdated,
};
