/* The backend-neutral half of the driver interface (db.h): one connection
 * per thread, transactions and their retry, error classes turned into
 * errors, records read and written by their table of columns, and
 * migrations. The backend-specific half is a db_driver. */
#include "store/db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"
#include "store/db_driver.h"

typedef struct db_conn {
    const db_driver *drv; /* pthread key destructors get no other context */
    void *impl;
    int depth;   /* open transactions: 1 the outer one, more are savepoints */
    bool writing; /* the outer transaction is a write transaction */
    bool retry;  /* a statement of this transaction hit a serialization failure */
    bool lost;   /* the connection is gone: reconnect once no transaction is open */
    bool relaxed; /* db_relax_durability: applied to each connection of this thread */
    char violated[DB_NAME_MAX]; /* of the last statement that failed on one */
} db_conn;

typedef struct queued queued;

struct db {
    const db_driver *drv;
    char *target;
    pthread_key_t key;
    db_trace_fn trace; /* NULL: none */
    void *trace_ctx;
    /* Write transactions waiting to run combined (when drv->transaction_open). */
    pthread_mutex_t queue_mu;
    queued *queue_head, *queue_tail;
    db_conn *writer; /* the connection they run on, whoever leads */
};

static const err ERR_DB = {ERR_INTERNAL, "internal_error", "The database failed."};
static const err ERR_BUSY = {ERR_UNAVAILABLE, "service_unavailable",
                             "The database is busy; try again."};
static const err ERR_LOST = {ERR_UNAVAILABLE, "service_unavailable",
                             "The database cannot be reached; try again."};

/* How often a transaction that lost a serialization race runs again. */
enum { RETRIES = 40 };

db_backend db_backend_of(const db *d) { return d->drv->backend; }

bool db_in_transaction(db *d)
{
    const db_conn *c = pthread_getspecific(d->key);
    return c && c->depth > 0;
}

/* ---- connections ---- */

static void conn_destroy(void *p)
{
    db_conn *c = p;
    if (c->impl)
        c->drv->disconnect(c->impl);
    free(c);
}

/* This thread's connection state, NULL before its first statement. */
static db_conn *this_conn(db *d) { return pthread_getspecific(d->key); }

/* This thread's connection, (re)connected when there is none or it was
 * lost while no transaction is open; NULL (and *e) when it cannot be. */
static db_conn *get_conn(db *d, err *e)
{
    db_conn *c = this_conn(d);
    if (!c) {
        if (!(c = calloc(1, sizeof *c))) {
            *e = ERR_DB;
            return NULL;
        }
        c->drv = d->drv;
        pthread_setspecific(d->key, c);
    }
    if (c->impl && c->depth == 0 && (c->lost || !d->drv->alive(c->impl))) {
        d->drv->disconnect(c->impl);
        c->impl = NULL;
    }
    if (c->lost && c->depth > 0) {
        *e = ERR_LOST; /* the transaction is gone with its connection */
        return NULL;
    }
    if (!c->impl) {
        char why[256] = "";
        c->impl = d->drv->connect(d->target, why, sizeof why);
        c->lost = false;
        c->depth = 0;
        if (!c->impl) {
            fprintf(stderr, "latchkey: database: %s\n", why);
            *e = ERR_LOST;
            return NULL;
        }
        if (c->relaxed)
            d->drv->relax(c->impl);
    }
    return c;
}

/* The error of a statement that ended with st; remembers what the
 * connection and transaction need to know. */
static err status_err(db_conn *c, db_status st)
{
    switch (st) {
    case DB_DONE:
        return ERR_NONE;
    case DB_UNIQUE:
        return ERR_DB; /* callers that expect it turn it into their own error */
    case DB_RETRY:
        c->retry = true;
        return ERR_BUSY;
    case DB_LOST:
        c->lost = true;
        return ERR_LOST;
    case DB_BUSY:
        return ERR_BUSY;
    case DB_FAILED:
        break;
    }
    return ERR_DB;
}

static err run(db *d, const sql_builder *q, db_row_fn fn, void *ctx, int64_t *changes)
{
    err e = ERR_NONE;
    db_conn *c = get_conn(d, &e);
    if (!c)
        return e;
    c->violated[0] = '\0';
    if (d->trace)
        d->trace(q, d->trace_ctx);
    int64_t n = 0;
    db_status st = d->drv->run(c->impl, q, fn, ctx, &n, c->violated);
    if (st != DB_UNIQUE)
        c->violated[0] = '\0';
    if (changes)
        *changes = n;
    return status_err(c, st);
}

void db_relax_durability(db *d)
{
    err e = ERR_NONE;
    db_conn *c = get_conn(d, &e);
    if (c && !c->relaxed) {
        c->relaxed = true;
        d->drv->relax(c->impl);
    }
}

void db_trace(db *d, db_trace_fn fn, void *ctx)
{
    d->trace = fn;
    d->trace_ctx = ctx;
}

err db_exec(db *d, const sql_builder *q, int64_t *changes) { return run(d, q, NULL, NULL, changes); }

err db_query(db *d, const sql_builder *q, db_row_fn fn, void *ctx)
{
    return run(d, q, fn, ctx, NULL);
}

/* Starts b (in a) as sql with the values described by types. */
static void build(sql_builder *b, arena *a, const char *sql, const char *types, va_list ap)
{
    sql_builder_init(b, a);
    sql_builder_append(b, sql);
    sql_builder_vbindf(b, types, ap);
}

err db_execf(db *d, int64_t *changes, const char *sql, const char *types, ...)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    va_list ap;
    va_start(ap, types);
    build(&b, &a, sql, types, ap);
    va_end(ap);
    err e = db_exec(d, &b, changes);
    arena_free(&a);
    return e;
}

err db_intf(db *d, int64_t *out, const char *sql, const char *types, ...)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    va_list ap;
    va_start(ap, types);
    build(&b, &a, sql, types, ap);
    va_end(ap);
    err e = db_query(d, &b, db_read_int, out);
    arena_free(&a);
    return e;
}

err db_changef(db *d, const db_table *t, const char *sql, const char *types, ...)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    va_list ap;
    va_start(ap, types);
    build(&b, &a, sql, types, ap);
    va_end(ap);
    err e = db_change(d, &b, t);
    arena_free(&a);
    return e;
}

const char *db_unique_violation(db *d)
{
    db_conn *c = this_conn(d);
    return c && c->violated[0] ? c->violated : NULL;
}

uint64_t db_hash(const char *text)
{
    uint64_t h = 14695981039346656037ull;
    for (; *text; text++)
        h = (h ^ (unsigned char)*text) * 1099511628211ull;
    return h;
}

/* ---- transactions ---- */

static err script(db *d, db_conn *c, const char *sql) { return status_err(c, d->drv->script(c->impl, sql)); }

/* Ends the driver's part of an outer write transaction. */
static err write_end(db *d, db_conn *c)
{
    if (!c->writing)
        return ERR_NONE;
    c->writing = false;
    return d->drv->write_end ? status_err(c, d->drv->write_end(c->impl)) : ERR_NONE;
}

/* A transaction (a write transaction when write), or inside one a
 * savepoint. */
static err begin(db *d, bool write)
{
    err e = ERR_NONE;
    db_conn *c = get_conn(d, &e);
    if (!c)
        return e;
    char sql[32];
    if (c->depth == 0) {
        c->retry = false;
        c->writing = write;
        if (write && d->drv->write_begin)
            d->drv->write_begin(c->impl);
    } else {
        snprintf(sql, sizeof sql, "SAVEPOINT sp%d", c->depth);
    }
    const char *outer = write ? d->drv->begin_sql : d->drv->begin_read_sql;
    if (err_failed(e = script(d, c, c->depth ? sql : outer))) {
        if (c->depth == 0)
            write_end(d, c);
        return e;
    }
    c->depth++;
    return ERR_NONE;
}

err db_begin(db *d) { return begin(d, true); }

err db_end(db *d, err e)
{
    db_conn *c = this_conn(d);
    int level = --c->depth;
    if (c->lost) { /* nothing to end: the server has rolled it back */
        c->writing = false;
        return err_failed(e) ? e : ERR_LOST;
    }
    char done[48], undo[64];
    snprintf(done, sizeof done, level ? "RELEASE SAVEPOINT sp%d" : "COMMIT", level);
    snprintf(undo, sizeof undo, level ? "ROLLBACK TO SAVEPOINT sp%d; RELEASE SAVEPOINT sp%d" : "ROLLBACK",
             level, level);
    if (!err_failed(e))
        e = script(d, c, done);
    if (err_failed(e) && !c->lost)
        d->drv->script(c->impl, undo);
    if (level == 0) {
        err ended = write_end(d, c);
        if (!err_failed(e))
            e = ended;
    }
    return e;
}

/* A random pause of up to 2^attempt milliseconds (at most 64): racing
 * transactions spread out instead of colliding again. */
static void backoff(int attempt)
{
    long cap = 1L << (attempt < 6 ? attempt : 6);
    struct timespec ts = {0, (random() % cap + 1) * 1000000L};
    nanosleep(&ts, NULL);
}

err db_read(db *d, err (*fn)(void *ctx), void *ctx)
{
    err e = begin(d, false);
    return err_failed(e) ? e : db_end(d, fn(ctx));
}

static err transaction(db *d, err (*fn)(void *ctx), void *ctx)
{
    for (int attempt = 0;; attempt++) {
        err e = db_begin(d);
        if (err_failed(e))
            return e;
        db_conn *c = this_conn(d);
        bool outermost = c->depth == 1;
        e = db_end(d, fn(ctx));
        /* Only a transaction that failed runs again: a serialization
         * failure its function handled (in a savepoint) left it whole. */
        if (!outermost || !err_failed(e) || !c->retry || attempt == RETRIES)
            return e;
        backoff(attempt);
    }
}

/* Write transactions that arrive together run as one where the driver asks
 * for it (SQLite, which writes one transaction at a time anyway): the first
 * in line runs each of a batch in a savepoint of one transaction on its own
 * connection, commits once, and answers them all once that commit is
 * durable. The pages they share (indexes, the workspace's generation) are
 * then written and synced once a batch rather than once a transaction.
 * Each function's outcome is its own (one that fails is rolled back to its
 * savepoint alone), and it runs after those before it in line, as it would
 * have alone. A thread whose commits are not waited for on disk
 * (db_relax_durability) writes alone, so that no batch is answered before
 * it is durable. */
enum { BATCH_MAX = 64 };

struct queued {
    err (*fn)(void *ctx);
    void *ctx;
    err result;
    bool done;
    pthread_cond_t cv;
    queued *next;
};

typedef struct batch {
    db *d;
    queued *q[BATCH_MAX];
    size_t n;
} batch;

/* Each function in its savepoint; when one's error rolled back the whole
 * transaction, the batch stops there and fails as a whole (those after it
 * would otherwise each commit on their own, unwaited for). */
static err run_batch(void *ctx)
{
    batch *b = ctx;
    for (size_t i = 0; i < b->n; i++) {
        queued *q = b->q[i];
        err e = begin(b->d, true); /* a savepoint */
        q->result = err_failed(e) ? e : db_end(b->d, q->fn(q->ctx));
        if (err_failed(q->result) && !b->d->drv->transaction_open(this_conn(b->d)->impl))
            return q->result;
    }
    return ERR_NONE;
}

/* Waits in line; the first in line runs the batch at the front. */
static err combined(db *d, err (*fn)(void *ctx), void *ctx)
{
    queued me = {.fn = fn, .ctx = ctx};
    pthread_cond_init(&me.cv, NULL);
    pthread_mutex_lock(&d->queue_mu);
    *(d->queue_tail ? &d->queue_tail->next : &d->queue_head) = &me;
    d->queue_tail = &me;
    while (!me.done && d->queue_head != &me)
        pthread_cond_wait(&me.cv, &d->queue_mu);
    if (!me.done) {
        batch b = {.d = d};
        for (queued *q = &me; q && b.n < BATCH_MAX; q = q->next)
            b.q[b.n++] = q;
        if (!d->writer && (d->writer = calloc(1, sizeof *d->writer)))
            d->writer->drv = d->drv;
        pthread_mutex_unlock(&d->queue_mu);
        db_conn *own = this_conn(d);
        pthread_setspecific(d->key, d->writer ? d->writer : own);
        err e = transaction(d, run_batch, &b);
        pthread_setspecific(d->key, own);
        pthread_mutex_lock(&d->queue_mu);
        queued *last = b.q[b.n - 1];
        d->queue_head = last->next;
        if (!d->queue_head)
            d->queue_tail = NULL;
        for (size_t i = 0; i < b.n; i++) {
            if (err_failed(e))
                b.q[i]->result = e;
            b.q[i]->done = true;
            pthread_cond_signal(&b.q[i]->cv);
        }
        if (d->queue_head)
            pthread_cond_signal(&d->queue_head->cv);
    }
    pthread_mutex_unlock(&d->queue_mu);
    pthread_cond_destroy(&me.cv);
    return me.result;
}

err db_transaction(db *d, err (*fn)(void *ctx), void *ctx)
{
    const db_conn *c = this_conn(d);
    if (d->drv->transaction_open && !(c && (c->depth > 0 || c->relaxed)))
        return combined(d, fn, ctx);
    return transaction(d, fn, ctx);
}

/* ---- typed columns ---- */

bool db_col_null(const db_row *r, int col) { return r->drv->col_null(r, col); }

const char *db_col_text(const db_row *r, int col, arena *a)
{
    if (r->drv->col_null(r, col))
        return NULL;
    size_t len = 0;
    const char *t = r->drv->col_text(r, col, &len);
    return arena_strndup(a, t ? t : "", t ? len : 0);
}

int64_t db_col_int(const db_row *r, int col)
{
    return r->drv->col_null(r, col) ? 0 : r->drv->col_int(r, col);
}

double db_col_real(const db_row *r, int col) { return r->drv->col_real(r, col); }

bool db_col_bool(const db_row *r, int col)
{
    return !r->drv->col_null(r, col) && r->drv->col_bool(r, col);
}

void db_read_text(const db_row *r, void *ctx)
{
    db_text_out *out = ctx;
    out->value = db_col_text(r, 0, out->a);
}

void db_read_int(const db_row *r, void *ctx) { *(int64_t *)ctx = db_col_int(r, 0); }

/* ---- records ---- */

void db_columns(sql_builder *b, const db_table *t, const char *alias)
{
    for (size_t i = 0; i < t->ncolumns; i++) {
        const db_column *col = &t->columns[i];
        if (i)
            sql_builder_append(b, ", ");
        if (col->expr) {
            sql_builder_append(b, "(");
            sql_builder_append(b, col->expr);
            sql_builder_append(b, ")");
            continue;
        }
        if (alias) {
            sql_builder_append(b, alias);
            sql_builder_append(b, ".");
        }
        sql_builder_append(b, col->name);
    }
}

void db_select(sql_builder *b, arena *a, const db_table *t)
{
    sql_builder_init(b, a);
    sql_builder_append(b, "SELECT ");
    db_columns(b, t, t->alias);
    sql_builder_append(b, " FROM ");
    sql_builder_append(b, t->name);
    sql_builder_append(b, " ");
    sql_builder_append(b, t->alias);
    sql_builder_append(b, " WHERE TRUE");
}

static void read_field(const db_row *r, int i, const db_column *col, arena *a, char *record)
{
    void *field = record + col->offset;
    switch (col->type) {
    case DB_TEXT:
        *(const char **)field = db_col_text(r, i, a);
        break;
    case DB_INT:
    case DB_INT0:
        *(int64_t *)field = db_col_int(r, i);
        break;
    case DB_REAL:
        *(double *)field = db_col_null(r, i) ? -1.0 : db_col_real(r, i);
        break;
    case DB_BOOL:
        *(bool *)field = db_col_bool(r, i);
        break;
    case DB_TRISTATE:
        *(int *)field = db_col_null(r, i) ? -1 : db_col_bool(r, i);
        break;
    }
}

typedef struct collect {
    arena *a;
    const db_table *t;
    char *rows;
    size_t n, cap;
} collect;

static void collect_row(const db_row *r, void *ctx)
{
    collect *c = ctx;
    c->rows = arena_grow(c->a, c->rows, c->n, &c->cap, c->t->size);
    char *record = c->rows + c->n * c->t->size;
    memset(record, 0, c->t->size);
    for (size_t i = 0; i < c->t->ncolumns; i++)
        read_field(r, (int)i, &c->t->columns[i], c->a, record);
    c->n++;
}

err db_rows(db *d, arena *a, const sql_builder *q, const db_table *t, void **out, size_t *count)
{
    collect c = {.a = a, .t = t};
    err e = db_query(d, q, collect_row, &c);
    *out = c.rows ? c.rows : arena_zalloc(a, t->size);
    *count = err_failed(e) ? 0 : c.n;
    return e;
}

err db_one(db *d, arena *a, const sql_builder *q, const db_table *t, void *out)
{
    void *rows = NULL;
    size_t n = 0;
    err e = db_rows(d, a, q, t, &rows, &n);
    if (err_failed(e))
        return e;
    if (n == 0)
        return t->not_found;
    memcpy(out, rows, t->size);
    return ERR_NONE;
}

static void bind_field(sql_builder *b, const db_column *col, const char *record)
{
    const void *field = record + col->offset;
    switch (col->type) {
    case DB_TEXT:
        sql_builder_bind_text(b, *(const char *const *)field);
        break;
    case DB_INT:
        sql_builder_bind_int(b, *(const int64_t *)field);
        break;
    case DB_INT0:
        if (*(const int64_t *)field)
            sql_builder_bind_int(b, *(const int64_t *)field);
        else
            sql_builder_bind_null(b, SQL_INT);
        break;
    case DB_REAL: {
        double v = *(const double *)field;
        if (v >= 0)
            sql_builder_bind_real(b, v);
        else
            sql_builder_bind_null(b, SQL_REAL);
        break;
    }
    case DB_BOOL:
        sql_builder_bind_bool(b, *(const bool *)field);
        break;
    case DB_TRISTATE:
        if (*(const int *)field < 0)
            sql_builder_bind_null(b, SQL_BOOL);
        else
            sql_builder_bind_bool(b, *(const int *)field != 0);
        break;
    }
}

void db_insert_sql(sql_builder *b, arena *a, const db_table *t, const void *record)
{
    sql_builder_init(b, a);
    sql_builder_appendf(b, "INSERT INTO %s (", t->name);
    size_t n = 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (t->columns[i].generated)
            continue;
        sql_builder_appendf(b, "%s%s", n++ ? ", " : "", t->columns[i].name);
        bind_field(b, &t->columns[i], record);
    }
    sql_builder_append(b, ") VALUES (");
    for (size_t i = 0; i < n; i++)
        sql_builder_append(b, i ? ", ?" : "?");
    sql_builder_append(b, ")");
}

err db_insert(db *d, const db_table *t, const void *record)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    db_insert_sql(&b, &a, t, record);
    err e = db_exec(d, &b, NULL);
    arena_free(&a);
    return e;
}

err db_change(db *d, const sql_builder *q, const db_table *t)
{
    int64_t changed = 0;
    err e = db_exec(d, q, &changed);
    return err_failed(e) ? e : changed ? ERR_NONE : t->not_found;
}

/* ---- open and migrate ---- */

/* The database's schema version (0: none yet). */
static err schema_version(db *d, int64_t *version)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    *version = 0;
    err e = db_query(d, &b, db_read_int, version);
    arena_free(&a);
    return e;
}

/* Applies m unless the database has it: the version is read again inside
 * the migration's own transaction, so that of several processes starting
 * together only the first applies it. */
static err apply(db *d, db_conn *c, const migration *m)
{
    err e = db_begin(d);
    if (err_failed(e))
        return e;
    int64_t version = 0;
    e = schema_version(d, &version);
    if (!err_failed(e) && version < m->version) {
        e = script(d, c, m->sql);
        if (!err_failed(e))
            e = db_execf(d, NULL, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                         "ii", (int64_t)m->version, time_now_ms());
        if (err_failed(e))
            fprintf(stderr, "latchkey: migration %d failed\n", m->version);
    }
    return db_end(d, e);
}

/* Applies the driver's migrations newer than the database's version;
 * refuses a database newer than this build. */
static err migrate(db *d, db_conn *c)
{
    const db_driver *drv = d->drv;
    err e = script(d, c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    int64_t version = 0;
    if (err_failed(e) || err_failed(e = schema_version(d, &version)))
        return e;
    size_t count = *drv->nmigrations;
    int known = count ? drv->migrations[count - 1].version : 0;
    if (version > known) {
        fprintf(stderr,
                "latchkey: the database's schema is version %lld, newer than this latchkey "
                "knows (%d): a newer latchkey has migrated it. Run that version, or point "
                "--database at another database.\n",
                (long long)version, known);
        return err_make(ERR_INTERNAL, "schema_too_new",
                        "The database's schema is newer than this latchkey knows.");
    }
    for (size_t i = 0; i < count && !err_failed(e); i++)
        if (drv->migrations[i].version > version)
            e = apply(d, c, &drv->migrations[i]);
    return e;
}

/* Migrates with other processes kept out (two nodes starting together
 * migrate once). */
static err migrate_locked(db *d, db_conn *c)
{
    err e = ERR_NONE;
    if (d->drv->migrate_lock_sql && err_failed(e = script(d, c, d->drv->migrate_lock_sql)))
        return e;
    e = migrate(d, c);
    if (d->drv->migrate_unlock_sql)
        d->drv->script(c->impl, d->drv->migrate_unlock_sql);
    return e;
}

err db_maintain(db *d, bool when_outdated)
{
    err e = ERR_NONE;
    db_conn *c = d->drv->maintain_sql ? get_conn(d, &e) : NULL;
    if (c && when_outdated && !(d->drv->stats_outdated && d->drv->stats_outdated(c->impl)))
        return ERR_NONE;
    return c ? script(d, c, d->drv->maintain_sql) : e;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

db *db_open(const char *url, err *e)
{
    const db_driver *drv = &db_sqlite_driver;
    const char *target = url;
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://")) {
        drv = &db_postgres_driver;
    } else {
        if (has_prefix(target, "sqlite:"))
            target += 7;
        if (has_prefix(target, "//"))
            target += 2;
    }
    db *d = calloc(1, sizeof *d);
    if (!d || !(d->target = strdup(target))) {
        free(d);
        *e = ERR_DB;
        return NULL;
    }
    d->drv = drv;
    pthread_key_create(&d->key, conn_destroy);
    pthread_mutex_init(&d->queue_mu, NULL);
    db_conn *c = get_conn(d, e);
    if (!c || err_failed(*e = migrate_locked(d, c)) || err_failed(*e = db_maintain(d, false))) {
        db_close(d);
        return NULL;
    }
    if (drv->opened)
        drv->opened(d->target);
    return d;
}

void db_close(db *d)
{
    if (!d)
        return;
    db_conn *c = this_conn(d);
    if (c)
        conn_destroy(c);
    pthread_setspecific(d->key, NULL);
    pthread_key_delete(d->key);
    if (d->writer)
        conn_destroy(d->writer);
    pthread_mutex_destroy(&d->queue_mu);
    free(d->target);
    free(d);
}
