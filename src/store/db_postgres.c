/* The PostgreSQL driver, on libpq: one connection per thread, prepared
 * statements cached per connection (typed parameters, so NULLs and
 * comparisons need no casts), SQLSTATEs turned into the driver interface's
 * classes, and a connection the server closed while idle noticed before it
 * is used. The URL and libpq's environment (PGPASSWORD, PGSSLMODE, ...)
 * say where and how to connect. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_driver.h"

/* PostgreSQL's protocol counts parameters in 16 bits. */
enum { STMT_CACHE_SIZE = 128, MAX_PARAMS = 65535 };

/* Type OIDs of the parameters (pg_type). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_TEXT = 25, OID_FLOAT8 = 701 };

typedef struct cached_stmt {
    uint64_t hash;
    char *sql;
    char name[16];
} cached_stmt;

typedef struct conn {
    PGconn *pg;
    /* A BEGIN not sent yet: it goes with the transaction's first statement,
     * in one round trip (NULL: none). */
    const char *begin;
    cached_stmt cache[STMT_CACHE_SIZE];
    size_t next_evict;
    unsigned next_name;
} conn;

typedef struct result_row {
    PGresult *res;
} result_row;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like */
}

static void disconnect(void *p)
{
    conn *c = p;
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
        free(c->cache[i].sql);
    PQfinish(c->pg);
    free(c);
}

static void *connect_db(const char *url, char *why, size_t whylen)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    /* The URL comes last so that what it says wins over these defaults: a
     * server that vanishes without closing the connection (a host down, a
     * partition) fails the requests waiting on it within seconds instead
     * of holding their threads until the kernel gives up. */
    /* Every statement is planned for its values: PostgreSQL would switch a
     * prepared statement to a generic plan after five runs, and the generic
     * plan of a small workspace's list walks the rows of the large
     * workspaces beside it (tests/unit/test_query_plans.c); planning these
     * statements costs far less than that walk. */
    const char *const keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout", "application_name",
                                "options", "dbname", NULL};
    const char *const values[] = {"5", "30", "10", "3", "15000", "latchkey",
                                  "-c plan_cache_mode=force_custom_plan", url, NULL};
    c->pg = PQconnectdbParams(keys, values, 1);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        snprintf(why, whylen, "cannot connect to PostgreSQL: %s",
                 c->pg ? PQerrorMessage(c->pg) : "out of memory");
        char *nl = strrchr(why, '\n');
        if (nl && nl[1] == '\0')
            *nl = '\0';
        disconnect(c);
        return NULL;
    }
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    return c;
}

/* PostgreSQL answers COMMIT before its WAL is flushed (it is within
 * wal_writer_delay); a crash can lose the last moment's commits, never
 * leave a half one. */
static void relax(void *p)
{
    PGresult *res = PQexec(((conn *)p)->pg, "SET synchronous_commit = off");
    PQclear(res);
}

/* An idle connection has nothing to read; when it has, the server has
 * closed it (a restart, an administrator) or sent a notification. */
static bool alive(void *p)
{
    conn *c = p;
    if (PQstatus(c->pg) != CONNECTION_OK)
        return false;
    struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return true;
    if (!PQconsumeInput(c->pg))
        return false;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)))
        PQfreemem(n);
    return PQstatus(c->pg) == CONNECTION_OK;
}

static db_status status_of(conn *c, const PGresult *res, char constraint[DB_NAME_MAX])
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(c->pg) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
        strncmp(state, "57P", 3) == 0)
        return DB_LOST;
    if (strcmp(state, "23505") == 0) {
        const char *name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        snprintf(constraint, DB_NAME_MAX, "%s", name ? name : "");
        return DB_UNIQUE;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return DB_RETRY;
    if (strcmp(state, "55P03") == 0)
        return DB_BUSY;
    fprintf(stderr, "postgres: %s", PQresultErrorMessage(res));
    return DB_FAILED;
}

/* sql with each "?" outside quotes renumbered "$1", "$2", ... */
static char *numbered(const char *sql)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 6 + 1), *o = out; /* "?" becomes at most "$65535" */
    if (!out)
        return NULL;
    char quote = 0;
    int next = 1;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?') {
            o += sprintf(o, "$%d", next++);
            continue;
        }
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

static Oid oid_of(sql_type t)
{
    switch (t) {
    case SQL_TEXT: return OID_TEXT;
    case SQL_INT: return OID_INT8;
    case SQL_REAL: return OID_FLOAT8;
    case SQL_BOOL: return OID_BOOL;
    }
    return OID_TEXT;
}

/* The name of the prepared statement for q on this connection, preparing it
 * when it is new; NULL (and *st) when it does not prepare. */
static const char *prepare(conn *c, const sql_builder *q, db_status *st,
                           char constraint[DB_NAME_MAX])
{
    const char *sql = sql_builder_text(q);
    uint64_t hash = db_hash(sql);
    for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
        if (c->cache[i].hash == hash && c->cache[i].sql && strcmp(c->cache[i].sql, sql) == 0)
            return c->cache[i].name;
    Oid *types = malloc((q->nbinds + 1) * sizeof *types);
    for (size_t i = 0; types && i < q->nbinds; i++)
        types[i] = oid_of(q->binds[i].type);
    char *text = types ? numbered(sql) : NULL;
    cached_stmt *slot = &c->cache[c->next_evict];
    c->next_evict = (c->next_evict + 1) % STMT_CACHE_SIZE;
    if (slot->sql) {
        char dealloc[48];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", slot->name);
        PQclear(PQexec(c->pg, dealloc));
        free(slot->sql);
        slot->sql = NULL;
    }
    snprintf(slot->name, sizeof slot->name, "lk%u", c->next_name++);
    PGresult *res = text ? PQprepare(c->pg, slot->name, text, (int)q->nbinds, types) : NULL;
    free(text);
    free(types);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        *st = status_of(c, res, constraint);
        PQclear(res);
        return NULL;
    }
    PQclear(res);
    slot->hash = hash;
    slot->sql = strdup(sql);
    return slot->name;
}

/* The pending BEGIN and the prepared statement name, sent together in a
 * pipeline: the statement's result, or BEGIN's when BEGIN failed (NULL when
 * the connection broke before either answered). */
static PGresult *begin_and_exec(conn *c, const char *name, int n, const char *const *values)
{
    const char *begin = c->begin;
    c->begin = NULL;
    if (!PQenterPipelineMode(c->pg) ||
        !PQsendQueryParams(c->pg, begin, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQsendQueryPrepared(c->pg, name, n, values, NULL, NULL, 0) || !PQpipelineSync(c->pg)) {
        PQexitPipelineMode(c->pg);
        return NULL;
    }
    /* BEGIN's result, the statement's, the sync; NULL after each result. */
    PGresult *begun = NULL, *res = NULL;
    for (int results = 0, nulls = 0; PQstatus(c->pg) == CONNECTION_OK && nulls < 4;) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            nulls++;
            continue;
        }
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (results++ == 0) {
            begun = r;
        } else if (!res) {
            res = r;
        } else {
            PQclear(r);
        }
    }
    PQexitPipelineMode(c->pg);
    if (begun && PQresultStatus(begun) != PGRES_COMMAND_OK) {
        PQclear(res);
        return begun;
    }
    PQclear(begun);
    return res;
}

static db_status run(void *p, const sql_builder *q, db_row_fn fn, void *ctx, int64_t *changes,
                     char constraint[DB_NAME_MAX])
{
    conn *c = p;
    if (q->nbinds > MAX_PARAMS) {
        fprintf(stderr, "postgres: a statement with %zu parameters\n", q->nbinds);
        return DB_FAILED;
    }
    db_status st = DB_FAILED;
    const char *name = prepare(c, q, &st, constraint);
    if (!name)
        return st;
    /* Text for each value; numbers are written into their own 32 bytes. */
    const char **values = malloc((q->nbinds + 1) * sizeof *values);
    char (*numbers)[32] = malloc((q->nbinds + 1) * sizeof *numbers);
    if (!values || !numbers) {
        free(values);
        free(numbers);
        fprintf(stderr, "postgres: out of memory\n");
        return DB_FAILED;
    }
    for (size_t i = 0; i < q->nbinds; i++) {
        const sql_bind *v = &q->binds[i];
        values[i] = numbers[i];
        if (v->is_null)
            values[i] = NULL;
        else if (v->type == SQL_TEXT)
            values[i] = v->text;
        else if (v->type == SQL_REAL)
            snprintf(numbers[i], sizeof numbers[i], "%.17g", v->f);
        else if (v->type == SQL_BOOL)
            values[i] = v->i ? "t" : "f";
        else
            snprintf(numbers[i], sizeof numbers[i], "%lld", (long long)v->i);
    }
    PGresult *res = c->begin ? begin_and_exec(c, name, (int)q->nbinds, values)
                             : PQexecPrepared(c->pg, name, (int)q->nbinds, values, NULL, NULL, 0);
    free(values);
    free(numbers);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        st = status_of(c, res, constraint);
        PQclear(res);
        return st;
    }
    result_row rr = {res};
    db_row row = {&db_postgres_driver, &rr, 0};
    for (int i = 0; fn && i < PQntuples(res); i++) {
        row.index = i;
        fn(&row, ctx);
    }
    const char *tuples = PQcmdTuples(res);
    *changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
    if (rs == PGRES_TUPLES_OK && strncmp(PQcmdStatus(res), "SELECT", 6) == 0)
        *changes = 0;
    PQclear(res);
    return DB_DONE;
}

static db_status script(void *p, const char *sql)
{
    conn *c = p;
    /* BEGIN waits for the first statement; a transaction that ran none
     * ends with nothing to send. */
    if (strncmp(sql, "BEGIN", 5) == 0 && !c->begin) {
        c->begin = sql;
        return DB_DONE;
    }
    char *joined = NULL;
    if (c->begin) {
        const char *begin = c->begin;
        c->begin = NULL;
        if (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0)
            return DB_DONE;
        size_t len = strlen(begin) + strlen(sql) + 3;
        if (!(joined = malloc(len)))
            return DB_FAILED;
        snprintf(joined, len, "%s; %s", begin, sql);
    }
    PGresult *res = PQexec(c->pg, joined ? joined : sql);
    free(joined);
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    db_status st = DB_DONE;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
        char ignored[DB_NAME_MAX];
        st = status_of(c, res, ignored);
    } else if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* A statement of the transaction failed (and was not undone to a
         * savepoint): PostgreSQL rolled all of it back. */
        fprintf(stderr, "postgres: COMMIT of a transaction in which a statement had failed\n");
        st = DB_FAILED;
    }
    PQclear(res);
    return st;
}

#define RES(r) (((const result_row *)(r)->impl)->res)

static bool col_null(const db_row *r, int col) { return PQgetisnull(RES(r), r->index, col); }

static const char *col_text(const db_row *r, int col, size_t *len)
{
    *len = (size_t)PQgetlength(RES(r), r->index, col);
    return PQgetvalue(RES(r), r->index, col);
}

static int64_t col_int(const db_row *r, int col)
{
    return strtoll(PQgetvalue(RES(r), r->index, col), NULL, 10);
}

static double col_real(const db_row *r, int col)
{
    return strtod(PQgetvalue(RES(r), r->index, col), NULL);
}

/* Booleans come as "t" / "f"; integers used as flags as digits. */
static bool col_bool(const db_row *r, int col)
{
    const char *v = PQgetvalue(RES(r), r->index, col);
    return v[0] == 't' || (v[0] >= '1' && v[0] <= '9');
}

const db_driver db_postgres_driver = {
    .backend = DB_POSTGRES,
    .begin_sql = "BEGIN",
    .begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    .connect = connect_db,
    .disconnect = disconnect,
    .alive = alive,
    .run = run,
    .script = script,
    .relax = relax,
    .col_null = col_null,
    .col_text = col_text,
    .col_int = col_int,
    .col_real = col_real,
    .col_bool = col_bool,
    .migrations = postgres_migrations,
    .nmigrations = &postgres_migrations_count,
    /* Session-level: held across the migrations' own transactions. */
    .migrate_lock_sql = "SELECT pg_advisory_lock(7468534)",
    .migrate_unlock_sql = "SELECT pg_advisory_unlock(7468534)",
};
