/* What a backend provides to db.c: connections, running one statement,
 * running a script, typed access to the current row, its migrations, and
 * how it serialises migrations across processes. db_sqlite.c and
 * db_postgres.c each define one. */
#ifndef LATCHKEY_DB_DRIVER_H
#define LATCHKEY_DB_DRIVER_H

#include "store/db.h"
#include "store/migrations.h"

typedef enum db_status {
    DB_DONE,
    DB_UNIQUE, /* unique violation; the constraint's name is filled in */
    DB_RETRY,  /* serialization failure or deadlock: run the transaction again */
    DB_LOST,   /* the connection is gone */
    DB_BUSY,   /* locked by another writer for too long */
    DB_FAILED, /* anything else; the driver has logged it */
} db_status;

enum { DB_NAME_MAX = 64 };

typedef struct db_driver {
    db_backend backend;
    const char *begin_sql;      /* starts a transaction */
    const char *begin_read_sql; /* starts a read-only transaction on one snapshot */
    /* NULL (and why filled in) when it cannot connect. */
    void *(*connect)(const char *target, char *why, size_t whylen);
    void (*disconnect)(void *conn);
    /* false when the idle connection is known to be gone, or is to be
     * replaced by a new one (SQLite: its planner statistics are outdated). */
    bool (*alive)(void *conn);
    db_status (*run)(void *conn, const sql_builder *q, db_row_fn fn, void *ctx,
                     int64_t *changes, char constraint[DB_NAME_MAX]);
    /* Around the outermost write transaction (NULL: nothing to do):
     * write_begin before its BEGIN, write_end after its COMMIT or ROLLBACK,
     * which returns DB_DONE once what it committed is durable. */
    void (*write_begin)(void *conn);
    db_status (*write_end)(void *conn);
    /* Whether the connection's transaction is still open (an error, a full
     * disk, may roll it back whole). Set, it also says that concurrent write
     * transactions are to be combined into one (db_transaction), which
     * needs to know. */
    bool (*transaction_open)(void *conn);
    /* Commits of this connection are no longer waited for on disk. */
    void (*relax)(void *conn);
    /* Statements separated by ';', no parameters, no rows. */
    db_status (*script)(void *conn, const char *sql);
    bool (*col_null)(const db_row *r, int col);
    const char *(*col_text)(const db_row *r, int col, size_t *len);
    int64_t (*col_int)(const db_row *r, int col);
    double (*col_real)(const db_row *r, int col);
    bool (*col_bool)(const db_row *r, int col);
    const migration *migrations;
    const size_t *nmigrations;
    /* Scripts around migrating that keep other processes out; NULL when a
     * write transaction does it already (SQLite). */
    const char *migrate_lock_sql, *migrate_unlock_sql;
    /* Called once the database is open and migrated. */
    void (*opened)(const char *target);
    /* Keeps the planner's statistics current (db_maintain); NULL when the
     * database does it itself (PostgreSQL's autovacuum). */
    const char *maintain_sql;
    /* Whether the data has grown so much since the last maintain_sql that
     * the statistics mislead (NULL: never). */
    bool (*stats_outdated)(void *conn);
} db_driver;

/* The current row of a statement, as the driver sees it. */
struct db_row {
    const db_driver *drv;
    const void *impl;
    int index;
};


extern const db_driver db_sqlite_driver;
extern const db_driver db_postgres_driver;

#endif
