/* Access codes: PIN codes on locks, scoped like their devices, with the
 * state the access-code scheduler works from (due_at, lease). */

#include "store/resource.h"

static const db_column CODE_COLUMNS[] = {
    DB_SEQ(store_access_code),
    DB_COLUMN(store_access_code, access_code_id, DB_TEXT),
    DB_COLUMN(store_access_code, workspace_id, DB_TEXT),
    DB_COLUMN(store_access_code, device_id, DB_TEXT),
    DB_COLUMN(store_access_code, connected_account_id, DB_TEXT),
    DB_COLUMN(store_access_code, name, DB_TEXT),
    DB_COLUMN(store_access_code, code, DB_TEXT),
    DB_COLUMN(store_access_code, common_code_key, DB_TEXT),
    DB_COLUMN(store_access_code, starts_at, DB_INT0),
    DB_COLUMN(store_access_code, ends_at, DB_INT0),
    DB_COLUMN(store_access_code, is_managed, DB_BOOL),
    DB_COLUMN(store_access_code, is_external_modification_allowed, DB_BOOL),
    DB_COLUMN(store_access_code, is_one_time_use, DB_BOOL),
    DB_COLUMN(store_access_code, is_offline_access_code, DB_BOOL),
    DB_COLUMN(store_access_code, use_backup_pool, DB_BOOL),
    DB_COLUMN(store_access_code, is_backup, DB_BOOL),
    DB_COLUMN(store_access_code, pulled_backup_access_code_id, DB_TEXT),
    DB_COLUMN(store_access_code, status, DB_TEXT),
    DB_COLUMN(store_access_code, on_device, DB_BOOL),
    DB_COLUMN(store_access_code, deleting, DB_BOOL),
    DB_COLUMN(store_access_code, due_at, DB_INT0),
    DB_COLUMN(store_access_code, delayed_since, DB_INT0),
    DB_COLUMN(store_access_code, lease_owner, DB_TEXT),
    DB_COLUMN(store_access_code, lease_expires_at, DB_INT0),
    DB_COLUMN(store_access_code, created_at, DB_INT),
};

static const db_table CODES = {
    "access_codes", "ac", CODE_COLUMNS, DB_COUNT(CODE_COLUMNS), sizeof(store_access_code),
    {ERR_NOT_FOUND, "access_code_not_found", "Access code not found."},
};

/* A unique violation on (device, code) becomes its own error. */
static err duplicate(store *s, err e)
{
    return store_conflict(s, e, "access_codes_device_code",
                          err_make(ERR_CONFLICT, "duplicate_access_code",
                                   "The device already has an access code with this code."));
}

typedef struct code_write {
    store *s;
    const store_access_code *ac;
    bool update;
} code_write;

static err write_code(void *p)
{
    code_write *w = p;
    const store_access_code *ac = w->ac;
    if (!w->update)
        return duplicate(w->s, db_insert(w->s->db, &CODES, ac));
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE access_codes SET name = ?, code = ?, common_code_key = ?,"
                           " starts_at = ?, ends_at = ?, is_managed = ?,"
                           " is_external_modification_allowed = ?, is_one_time_use = ?,"
                           " is_offline_access_code = ?, use_backup_pool = ?, is_backup = ?,"
                           " pulled_backup_access_code_id = ?, status = ?, on_device = ?,"
                           " deleting = ?, due_at = ?, delayed_since = ?, lease_owner = ?,"
                           " lease_expires_at = ? WHERE access_code_id = ?");
    sql_builder_bindf(&b, "sss", ac->name, ac->code, ac->common_code_key);
    const int64_t times[] = {ac->starts_at, ac->ends_at};
    for (size_t i = 0; i < 2; i++)
        times[i] ? sql_builder_bind_int(&b, times[i]) : sql_builder_bind_null(&b, SQL_INT);
    sql_builder_bindf(&b, "bbbbbbssbb", ac->is_managed, ac->is_external_modification_allowed,
                      ac->is_one_time_use, ac->is_offline_access_code, ac->use_backup_pool,
                      ac->is_backup, ac->pulled_backup_access_code_id, ac->status, ac->on_device,
                      ac->deleting);
    const int64_t later[] = {ac->due_at, ac->delayed_since};
    for (size_t i = 0; i < 2; i++)
        later[i] ? sql_builder_bind_int(&b, later[i]) : sql_builder_bind_null(&b, SQL_INT);
    sql_builder_bind_text(&b, ac->lease_owner);
    ac->lease_expires_at ? sql_builder_bind_int(&b, ac->lease_expires_at)
                         : sql_builder_bind_null(&b, SQL_INT);
    sql_builder_bind_text(&b, ac->access_code_id);
    err e = duplicate(w->s, db_change(w->s->db, &b, &CODES));
    arena_free(&a);
    return e;
}

/* In a savepoint of its own, so that a caller that handles the duplicate
 * keeps the rest of its transaction. */
static err write_atomic(store *s, const store_access_code *ac, bool update)
{
    code_write w = {s, ac, update};
    return db_transaction(s->db, write_code, &w);
}

err store_access_code_create(store *s, const store_access_code *ac)
{
    return write_atomic(s, ac, false);
}

err store_access_code_write(store *s, const store_access_code *ac)
{
    return write_atomic(s, ac, true);
}

err store_access_code_get(store *s, arena *a, const store_scope *scope, const char *id,
                          const char *device_id, const char *code, store_code_kind kind,
                          bool for_update, store_access_code *out)
{
    sql_builder b;
    db_select(&b, a, &CODES);
    if (scope)
        scope_append(&b, scope, "ac", SCOPE_BY_ACCOUNT);
    query_eq(&b, "ac.access_code_id", id);
    query_eq(&b, "ac.device_id", device_id);
    query_eq(&b, "ac.code", code);
    if (kind != STORE_CODE_ANY)
        sql_builder_appendf(&b, " AND %sac.is_managed", kind == STORE_CODE_MANAGED ? "" : "NOT ");
    if (for_update)
        sql_builder_append(&b, dialect_lock_rows(s->db));
    return db_one(s->db, a, &b, &CODES, out);
}

err store_access_code_list(store *s, arena *a, const store_scope *scope,
                           const store_access_code_filter *f, const store_page *page,
                           store_access_code **out, size_t *count)
{
    static const char *const SEARCHED[] = {"ac.name", "ac.code"};
    sql_builder b;
    db_select(&b, a, &CODES);
    scope_append(&b, scope, "ac", SCOPE_BY_ACCOUNT);
    if (f->none)
        sql_builder_append(&b, " AND FALSE");
    sql_builder_appendf(&b, " AND %sac.is_managed", f->managed ? "" : "NOT ");
    /* The codes of an unmanaged device are out of sight, as it is. */
    sql_builder_append(&b, " AND EXISTS (SELECT 1 FROM devices d WHERE d.device_id = ac.device_id"
                           " AND d.is_managed)");
    if (!f->backup) /* spare codes are not listed until pulled for a code */
        sql_builder_append(&b, " AND NOT (ac.is_backup AND ac.ends_at IS NULL)");
    query_in(&b, "ac.access_code_id", f->access_code_ids);
    query_eq(&b, "ac.device_id", f->device_id);
    query_eq(&b, "ac.common_code_key", f->common_code_key);
    query_customer(&b, "ac", f->customer_key);
    if (f->search)
        dialect_search(&b, s->db, SEARCHED, DB_COUNT(SEARCHED), "ac.access_code_id", f->search);
    query_page(&b, "ac", page);
    return db_rows(s->db, a, &b, &CODES, (void **)out, count);
}

err store_access_code_remove(store *s, const char *access_code_id)
{
    return db_changef(s->db, &CODES, "DELETE FROM access_codes WHERE access_code_id = ?", "s",
                      access_code_id);
}

typedef struct code_counts {
    int64_t *active, *on_device;
} code_counts;

static void read_counts(const db_row *r, void *ctx)
{
    code_counts *c = ctx;
    *c->active = db_col_int(r, 0);
    *c->on_device = db_col_int(r, 1);
}

err store_access_code_count(store *s, const char *device_id, int64_t *active, int64_t *on_device)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN on_device THEN 1 ELSE 0 END), 0)"
                           " FROM access_codes WHERE device_id = ? AND NOT deleting");
    sql_builder_bind_text(&b, device_id);
    *active = *on_device = 0;
    code_counts c = {active, on_device};
    err e = db_query(s->db, &b, read_counts, &c);
    arena_free(&a);
    return e;
}

/* Due, and no other node works on it (or its lease ran out). */
#define CLAIMABLE " due_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"

err store_access_code_claim(store *s, arena *a, const char *owner, int64_t now, int64_t lease_ms,
                            size_t limit, store_access_code **out, size_t *count)
{
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_appendf(&b, "UPDATE access_codes SET lease_owner = ?, lease_expires_at = ?"
                            " WHERE access_code_id IN (SELECT access_code_id FROM access_codes"
                            " WHERE" CLAIMABLE " ORDER BY due_at LIMIT ?%s) RETURNING ",
                        dialect_claim_rows(s->db));
    db_columns(&b, &CODES, NULL);
    sql_builder_bindf(&b, "siiii", owner, now + lease_ms, now, now, (int64_t)limit);
    return db_rows(s->db, a, &b, &CODES, (void **)out, count);
}

err store_access_code_next_due(store *s, int64_t *next)
{
    /* A code being worked on is due again when its lease runs out (each
     * through its own index). */
    *next = 0;
    return db_intf(s->db, next,
                   "SELECT COALESCE(MIN(t), 0) FROM ("
                   "SELECT MIN(due_at) AS t FROM access_codes"
                   " WHERE due_at IS NOT NULL AND lease_expires_at IS NULL"
                   " UNION ALL SELECT MIN(lease_expires_at) FROM access_codes"
                   " WHERE lease_expires_at IS NOT NULL AND due_at IS NOT NULL) due",
                   "");
}

err store_access_codes_wake(store *s, const char *device_id, int64_t now)
{
    return db_execf(s->db, NULL,
                    "UPDATE access_codes SET due_at = ? WHERE device_id = ? AND due_at > ?", "isi",
                    now, device_id, now);
}
