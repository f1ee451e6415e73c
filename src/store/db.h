/* The driver interface the store's resource files are written against,
 * once for both backends: connections (one per thread, opened lazily,
 * reconnected when lost), transactions with savepoints and retry,
 * statements from a sql_builder with typed parameters, typed column access,
 * error classes, and records described once as a table of columns, from
 * which SELECT lists, row readers and INSERTs are all derived (so no column
 * is ever read by a guessed position). */
#ifndef LATCHKEY_DB_H
#define LATCHKEY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/sql_builder.h"

typedef struct db db;
typedef struct db_row db_row;

typedef enum db_backend { DB_SQLITE, DB_POSTGRES } db_backend;

/* "sqlite:PATH" (or a bare path) or a "postgres://" / "postgresql://" URL.
 * Connects once to check, and migrates. */
db *db_open(const char *url, err *e);
void db_close(db *d);
db_backend db_backend_of(const db *d);
/* FNV-1a of a text: the key of a statement cache (of the SQL text), the
 * place of a workspace among shared reads. */
uint64_t db_hash(const char *text);
/* Whether this thread is inside a transaction of d. */
bool db_in_transaction(db *d);

/* Keeps the planner's statistics current: run at open, and now and then;
 * when_outdated: only if the data has grown much since they were taken. */
err db_maintain(db *d, bool when_outdated);

/* A transaction, or inside one a savepoint, so that calls which need one
 * compose into a larger one. db_end commits (or releases) when e succeeded
 * and rolls back otherwise; it returns the outcome. */
err db_begin(db *d);
err db_end(db *d, err e);
/* From now on, this thread's commits are not waited for until they are on
 * disk (they reach it with the next commit that is waited for, or when the
 * system writes them back; a crash may lose them, whole): for work that is
 * done again when it is lost, such as the action worker's, whose leases
 * run out. */
void db_relax_durability(db *d);
/* fn in one read-only snapshot: every statement it runs sees the database
 * as of its first one (inside a transaction: a savepoint of it). */
err db_read(db *d, err (*fn)(void *ctx), void *ctx);
/* db_begin, fn, db_end; the outermost transaction is run again (a few
 * times, after a short random pause) when a statement in it hit a
 * serialization failure or deadlock. */
err db_transaction(db *d, err (*fn)(void *ctx), void *ctx);

typedef void (*db_row_fn)(const db_row *r, void *ctx);

/* fn is called with each statement of db_exec and db_query (its text and
 * bound values) just before it runs, on the thread that runs it: for
 * diagnostics, and for tests that explain what the store runs
 * (tests/unit/test_query_plans.c). NULL stops it. Set it while no other
 * thread uses d. */
typedef void (*db_trace_fn)(const sql_builder *q, void *ctx);
void db_trace(db *d, db_trace_fn fn, void *ctx);

/* Runs q; *changes (if given) is the number of rows it changed. */
err db_exec(db *d, const sql_builder *q, int64_t *changes);
/* Runs q and calls fn for each row it returns. */
err db_query(db *d, const sql_builder *q, db_row_fn fn, void *ctx);
/* db_exec of a fixed statement: sql with "?" placeholders and the values
 * described by types, as sql_builder_bindf. */
err db_execf(db *d, int64_t *changes, const char *sql, const char *types, ...);
/* db_query of a fixed statement (as db_execf) whose first column is an
 * integer: that of its last row into *out, left as it is when no row. */
err db_intf(db *d, int64_t *out, const char *sql, const char *types, ...);
/* After a statement on this thread failed on a unique constraint: the
 * constraint's (or unique index's) name; otherwise NULL. */
const char *db_unique_violation(db *d);

/* db_row_fns for one-value queries: the first column of the (last) row,
 * as text into a db_text_out, or as an integer into an int64_t. */
typedef struct db_text_out {
    arena *a;
    const char *value; /* NULL: no row, or NULL */
} db_text_out;
void db_read_text(const db_row *r, void *ctx);
void db_read_int(const db_row *r, void *ctx);

bool db_col_null(const db_row *r, int col);
const char *db_col_text(const db_row *r, int col, arena *a); /* NULL for NULL */
int64_t db_col_int(const db_row *r, int col);                /* 0 for NULL */
double db_col_real(const db_row *r, int col);
bool db_col_bool(const db_row *r, int col);

/* ---- records ---- */

typedef enum db_field {
    DB_TEXT,     /* const char *; NULL is NULL */
    DB_INT,      /* int64_t */
    DB_INT0,     /* int64_t; 0 is NULL */
    DB_REAL,     /* double; negative is NULL */
    DB_BOOL,     /* bool */
    DB_TRISTATE, /* int: -1 is NULL, 0 false, 1 true */
} db_field;

typedef struct db_column {
    const char *name;
    db_field type;
    size_t offset;
    const char *expr; /* computed: this SQL expression instead of a column */
    bool generated;   /* not written by INSERT (sequences, computed, defaulted) */
} db_column;

#define DB_COLUMN(T, f, type) {#f, type, offsetof(T, f), NULL, false}
#define DB_SEQ(T) {"seq", DB_INT, offsetof(T, seq), NULL, true}
#define DB_COMPUTED(T, f, type, sql) {#f, type, offsetof(T, f), sql, true}
/* A column that INSERT leaves to its default and other statements change. */
#define DB_DEFAULTED(T, f, type) {#f, type, offsetof(T, f), NULL, true}
#define DB_COUNT(a) (sizeof(a) / sizeof *(a))

/* A record type: its table, the alias queries use for it, its columns, the
 * size of the C struct, and the error a lookup that finds nothing gives. */
typedef struct db_table {
    const char *name;
    const char *alias;
    const db_column *columns;
    size_t ncolumns;
    size_t size;
    err not_found;
} db_table;

/* Starts b as "SELECT <alias.columns> FROM <name> <alias> WHERE TRUE". */
void db_select(sql_builder *b, arena *a, const db_table *t);
/* Every row of q (a db_select of t) as an array of t's records. */
err db_rows(db *d, arena *a, const sql_builder *q, const db_table *t, void **out, size_t *count);
/* The first row of q into out; t's not-found error when there is none. */
err db_one(db *d, arena *a, const sql_builder *q, const db_table *t, void *out);
/* Appends t's column list, each prefixed with "alias." when alias is not NULL. */
void db_columns(sql_builder *b, const db_table *t, const char *alias);
/* Starts b as the INSERT of record's columns (all but the generated ones),
 * for a caller that adds to it (ON CONFLICT, RETURNING). */
void db_insert_sql(sql_builder *b, arena *a, const db_table *t, const void *record);
/* Runs the INSERT of record. */
err db_insert(db *d, const db_table *t, const void *record);
/* db_exec of q; t's not-found error when it changed no row. */
err db_change(db *d, const sql_builder *q, const db_table *t);
/* db_change of a fixed statement, as db_execf. */
err db_changef(db *d, const db_table *t, const char *sql, const char *types, ...);

#endif
