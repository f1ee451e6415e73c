/* Action attempts: device actions done in the background, claimed by one
 * node at a time with a lease, so that the cluster (not whichever node
 * happened to start) completes each exactly once. */
#include "store/resource.h"

static const db_column ATTEMPT_COLUMNS[] = {
    DB_SEQ(store_action_attempt),
    DB_COLUMN(store_action_attempt, action_attempt_id, DB_TEXT),
    DB_COLUMN(store_action_attempt, workspace_id, DB_TEXT),
    DB_COLUMN(store_action_attempt, device_id, DB_TEXT),
    DB_COLUMN(store_action_attempt, connected_account_id, DB_TEXT),
    DB_COLUMN(store_action_attempt, action_type, DB_TEXT),
    DB_COLUMN(store_action_attempt, status, DB_TEXT),
    DB_COLUMN(store_action_attempt, error_type, DB_TEXT),
    DB_COLUMN(store_action_attempt, error_message, DB_TEXT),
    DB_COLUMN(store_action_attempt, created_at, DB_INT),
    DB_COLUMN(store_action_attempt, due_at, DB_INT),
    DB_COLUMN(store_action_attempt, completed_at, DB_INT0),
    DB_COLUMN(store_action_attempt, lease_owner, DB_TEXT),
    DB_COLUMN(store_action_attempt, lease_expires_at, DB_INT0),
    DB_COLUMN(store_action_attempt, params, DB_TEXT),
};

static const db_table ATTEMPTS = {
    "action_attempts", "aa", ATTEMPT_COLUMNS, DB_COUNT(ATTEMPT_COLUMNS),
    sizeof(store_action_attempt),
    {ERR_NOT_FOUND, "action_attempt_not_found", "Action attempt not found."},
};

err store_action_attempt_create(store *s, const store_action_attempt *aa)
{
    return db_insert(s->db, &ATTEMPTS, aa);
}

err store_action_attempt_get(store *s, arena *a, const store_scope *scope, const char *id,
                             store_action_attempt *out)
{
    return store_get(s, a, &ATTEMPTS, "action_attempt_id", id, scope, SCOPE_BY_ACCOUNT, out);
}

err store_action_attempt_list(store *s, arena *a, const store_scope *scope, const str_list *ids,
                              const char *device_id, const store_page *page,
                              store_action_attempt **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &ATTEMPTS);
    scope_append(&b, scope, "aa", SCOPE_BY_ACCOUNT);
    query_in(&b, "aa.action_attempt_id", ids);
    query_eq(&b, "aa.device_id", device_id);
    query_page(&b, "aa", page);
    return db_rows(s->db, a, &b, &ATTEMPTS, (void **)out, count);
}

/* An attempt on a live provider's device is for the node that holds its
 * account's connection (provider_links); a condition on action_attempts
 * rows, with the owner's id as its one value. */
#define FOR_LINK_HOLDER                                                                    \
    " AND NOT EXISTS (SELECT 1 FROM provider_links pl"                                     \
    " WHERE pl.connected_account_id = action_attempts.connected_account_id"                \
    " AND (pl.owner IS NULL OR pl.owner <> ?))"

err store_action_attempt_claim(store *s, arena *a, const char *owner, int64_t now,
                               int64_t lease_ms, size_t limit, store_action_attempt **out,
                               size_t *count)
{
    sql_builder b;
    sql_builder_init(&b, a);
    /* Each kind of claimable attempt through its own index, whatever the
     * planner's statistics say of the table: one OR over both read the
     * whole table once statistics taken when it was small (every attempt
     * alike) told the planner that status picks nothing out. */
    const char *rows = dialect_claim_rows(s->db);
    sql_builder_appendf(&b, "UPDATE action_attempts SET status = 'running', lease_owner = ?,"
                            " lease_expires_at = ? WHERE action_attempt_id IN ("
                            "SELECT action_attempt_id FROM ("
                            "SELECT * FROM (SELECT action_attempt_id, due_at, seq FROM action_attempts"
                            " WHERE status = 'pending' AND due_at <= ?%s ORDER BY due_at, seq LIMIT ?%s) due_pending"
                            " UNION ALL "
                            "SELECT * FROM (SELECT action_attempt_id, due_at, seq FROM action_attempts"
                            " WHERE status = 'running' AND lease_expires_at <= ?%s"
                            " ORDER BY due_at, seq LIMIT ?%s) due_again"
                            ") due ORDER BY due_at, seq LIMIT ?) RETURNING ",
                        FOR_LINK_HOLDER, rows, FOR_LINK_HOLDER, rows);
    db_columns(&b, &ATTEMPTS, NULL);
    sql_builder_bindf(&b, "siisiisii", owner, now + lease_ms, now, owner, (int64_t)limit, now,
                      owner, (int64_t)limit, (int64_t)limit);
    return db_rows(s->db, a, &b, &ATTEMPTS, (void **)out, count);
}

typedef struct id_rows {
    arena *a;
    const char **ids;
    size_t count, cap;
} id_rows;

static void read_id(const db_row *r, void *ctx)
{
    id_rows *rows = ctx;
    if (rows->count < rows->cap)
        rows->ids[rows->count++] = db_col_text(r, 0, rows->a);
}

err store_action_attempts_unfinished(store *s, arena *a, const str_list *ids, const char ***out,
                                     size_t *count)
{
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_append(&b, "SELECT action_attempt_id FROM action_attempts"
                           " WHERE status IN ('pending', 'running')");
    query_in(&b, "action_attempt_id", ids);
    id_rows rows = {.a = a, .ids = arena_alloc(a, (ids->count + 1) * sizeof *rows.ids),
                    .cap = ids->count};
    err e = db_query(s->db, &b, read_id, &rows);
    *out = rows.ids;
    *count = rows.count;
    return e;
}

err store_action_attempt_next_due(store *s, const char *owner, int64_t *next)
{
    *next = 0;
    return db_intf(s->db, next,
                   "SELECT COALESCE(MIN(t), 0) FROM ("
                   "SELECT MIN(due_at) AS t FROM action_attempts"
                   " WHERE status = 'pending'" FOR_LINK_HOLDER
                   " UNION ALL SELECT MIN(lease_expires_at) FROM action_attempts"
                   " WHERE status = 'running'" FOR_LINK_HOLDER ") due",
                   "ss", owner, owner);
}

err store_action_attempt_release(store *s, const char *id, const char *owner)
{
    return db_changef(s->db, &ATTEMPTS,
                      "UPDATE action_attempts SET status = 'pending', lease_owner = NULL,"
                      " lease_expires_at = NULL"
                      " WHERE action_attempt_id = ? AND lease_owner = ? AND status = 'running'",
                      "ss", id, owner);
}

err store_action_attempt_finish(store *s, const char *id, const char *owner, const char *status,
                                const char *error_type, const char *error_message,
                                int64_t completed_at)
{
    return db_changef(s->db, &ATTEMPTS,
                      "UPDATE action_attempts SET status = ?, error_type = ?, error_message = ?,"
                      " completed_at = ?"
                      " WHERE action_attempt_id = ? AND lease_owner = ? AND status = 'running'",
                      "sssiss", status, error_type, error_message, completed_at, id, owner);
}

err store_action_attempt_extend(store *s, const char *id, const char *owner, int64_t until)
{
    return db_changef(s->db, &ATTEMPTS,
                      "UPDATE action_attempts SET lease_expires_at = ?"
                      " WHERE action_attempt_id = ? AND lease_owner = ? AND status = 'running'",
                      "iss", until, id, owner);
}
