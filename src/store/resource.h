/* What the store's resource files share: the store itself (a database), and
 * the pieces their queries are built from, written once for both backends:
 * scope conditions, filters, pages, and the dialect's few differences. */
#ifndef LATCHKEY_STORE_RESOURCE_H
#define LATCHKEY_STORE_RESOURCE_H

#include "store/db.h"
#include "store/store.h"

typedef struct store_generations store_generations;

struct store {
    db *db;
    store_generations *generations; /* reads shared by concurrent callers */
};

/* ---- workspace generations (generations.c) ---- */

store_generations *store_generations_new(void);
void store_generations_free(store_generations *g);

/* ---- scope (scope.c) ---- */

/* The connected accounts a client session holds: granted directly, or
 * created through a connect webview it holds. `session` is an SQL
 * expression naming the session id; it appears twice. */
#define SESSION_ACCOUNTS(session)                                                          \
    "SELECT connected_account_id FROM client_session_connected_accounts"                  \
    " WHERE client_session_id = " session                                                  \
    " UNION SELECT cw.connected_account_id FROM client_session_connect_webviews x"         \
    " JOIN connect_webviews cw ON cw.connect_webview_id = x.connect_webview_id"            \
    " WHERE x.client_session_id = " session " AND cw.connected_account_id IS NOT NULL"

typedef enum scope_column {
    SCOPE_BY_ACCOUNT, /* rows with a connected_account_id column */
    SCOPE_BY_WEBVIEW, /* connect webviews, by their connect_webview_id */
} scope_column;

/* " AND <alias>.workspace_id = ?" and, for the session the scope names (by
 * id, or by user_identifier_key), a condition that keeps only what it holds. */
void scope_append(sql_builder *b, const store_scope *scope, const char *alias,
                  scope_column column);
/* For an UPDATE or DELETE of t: " AND <id> IN (the ids of t in scope)". */
void scope_append_write(sql_builder *b, const store_scope *scope, const db_table *t,
                        const char *id_column, scope_column column);

/* ---- filters and pages (query.c) ---- */

/* " AND column = ?" when value is not NULL. */
void query_eq(sql_builder *b, const char *column, const char *value);
/* " AND column IN (?, ...)" when l is not NULL. */
void query_in(sql_builder *b, const char *column, const str_list *l);
/* " AND <alias>.seq > ? ORDER BY <alias>.seq LIMIT ?" */
void query_page(sql_builder *b, const char *alias, const store_page *page);
/* " AND <alias>.connected_account_id IN (the accounts of the customer)"
 * when customer_key is not NULL. */
void query_customer(sql_builder *b, const char *alias, const char *customer_key);
/* The conditions of a store_list_filter (NULL: none) on <alias>'s
 * custom_metadata and customer_key columns, searching `searched`. */
void query_list_filter(sql_builder *b, const db *d, const char *alias, const store_list_filter *f,
                       const char *const *searched, size_t nsearched);
/* " AND column < ?" when before is not 0. */
void query_before(sql_builder *b, const char *column, int64_t before);

/* ---- what the two SQLs spell differently (dialect.c) ---- */

/* " AND" the object in column holds each key:value of m. */
void dialect_metadata(sql_builder *b, const db *d, const char *column, const metadata_filter *m);
/* " AND (c1 LIKE ? OR ...)": any of the columns contains needle, ignoring
 * case ('%', '_' and '\' in needle match only themselves), or exact_column
 * (when not NULL) equals it. */
void dialect_search(sql_builder *b, const db *d, const char *const *columns, size_t ncolumns,
                    const char *exact_column, const char *needle);
/* Appended to a SELECT inside a transaction: its rows stay locked until the
 * transaction ends (SQLite's write transaction holds the whole database). */
const char *dialect_lock_rows(const db *d);
/* The same, skipping rows another transaction has locked. */
const char *dialect_claim_rows(const db *d);
/* Appends the value that numbers a new row of table in its seq column: the
 * identity's next on PostgreSQL, on SQLite the largest so far plus one
 * (given under the writer's lock; rather than by a trigger that writes
 * the row a second time). */
void dialect_next_seq(sql_builder *b, const db *d, const char *table);

/* ---- shared reads and writes (store.c) ---- */

/* e, or `instead` when e failed on the unique constraint (or unique
 * index) of that name: the resource's own error for a taken key. */
err store_conflict(store *s, err e, const char *constraint, err instead);

/* The row of t with this id within scope (none: by id alone) into out. */
err store_get(store *s, arena *a, const db_table *t, const char *id_column, const char *id,
              const store_scope *scope, scope_column column, void *out);

/* Deletes the row of t with this id within scope and records ev (when not
 * NULL), in one transaction; t's not-found error when there is none. */
err store_delete(store *s, const db_table *t, const char *id_column, const char *id,
                 const store_scope *scope, scope_column column, const store_event *ev);

#endif
