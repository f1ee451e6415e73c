/* Noise thresholds: the limits of noise a noise sensor tolerates between
 * two times of day, scoped by their device's connected account. */
#include "store/resource.h"

static const db_column THRESHOLD_COLUMNS[] = {
    DB_SEQ(store_noise_threshold),
    DB_COLUMN(store_noise_threshold, noise_threshold_id, DB_TEXT),
    DB_COLUMN(store_noise_threshold, workspace_id, DB_TEXT),
    DB_COLUMN(store_noise_threshold, device_id, DB_TEXT),
    DB_COLUMN(store_noise_threshold, connected_account_id, DB_TEXT),
    DB_COLUMN(store_noise_threshold, name, DB_TEXT),
    DB_COLUMN(store_noise_threshold, starts_daily_at, DB_TEXT),
    DB_COLUMN(store_noise_threshold, ends_daily_at, DB_TEXT),
    DB_COLUMN(store_noise_threshold, noise_threshold_decibels, DB_REAL),
    DB_COLUMN(store_noise_threshold, noise_threshold_nrs, DB_REAL),
    DB_COLUMN(store_noise_threshold, created_at, DB_INT),
};

static const db_table THRESHOLDS = {
    "noise_thresholds", "nt", THRESHOLD_COLUMNS, DB_COUNT(THRESHOLD_COLUMNS),
    sizeof(store_noise_threshold),
    {ERR_NOT_FOUND, "noise_threshold_not_found", "Noise threshold not found."},
};

err store_noise_threshold_create(store *s, const store_noise_threshold *nt)
{
    return db_insert(s->db, &THRESHOLDS, nt);
}

err store_noise_threshold_get(store *s, arena *a, const store_scope *scope, const char *id,
                              const char *device_id, bool for_update, store_noise_threshold *out)
{
    sql_builder b;
    db_select(&b, a, &THRESHOLDS);
    scope_append(&b, scope, "nt", SCOPE_BY_ACCOUNT);
    query_eq(&b, "nt.noise_threshold_id", id);
    query_eq(&b, "nt.device_id", device_id);
    if (for_update)
        sql_builder_append(&b, dialect_lock_rows(s->db));
    return db_one(s->db, a, &b, &THRESHOLDS, out);
}

err store_noise_threshold_list(store *s, arena *a, const store_scope *scope, const char *device_id,
                               store_noise_threshold **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &THRESHOLDS);
    scope_append(&b, scope, "nt", SCOPE_BY_ACCOUNT);
    query_eq(&b, "nt.device_id", device_id);
    sql_builder_append(&b, " ORDER BY nt.seq");
    return db_rows(s->db, a, &b, &THRESHOLDS, (void **)out, count);
}

err store_noise_threshold_update(store *s, const store_scope *scope,
                                 const store_noise_threshold *nt)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE noise_thresholds SET name = ?, starts_daily_at = ?,"
                           " ends_daily_at = ?, noise_threshold_decibels = ?,"
                           " noise_threshold_nrs = ? WHERE noise_threshold_id = ?");
    sql_builder_bindf(&b, "sss", nt->name, nt->starts_daily_at, nt->ends_daily_at);
    sql_builder_bind_real(&b, nt->noise_threshold_decibels);
    if (nt->noise_threshold_nrs < 0)
        sql_builder_bind_null(&b, SQL_REAL);
    else
        sql_builder_bind_real(&b, nt->noise_threshold_nrs);
    sql_builder_bind_text(&b, nt->noise_threshold_id);
    scope_append_write(&b, scope, &THRESHOLDS, "noise_threshold_id", SCOPE_BY_ACCOUNT);
    err e = db_change(s->db, &b, &THRESHOLDS);
    arena_free(&a);
    return e;
}

err store_noise_threshold_delete(store *s, const store_scope *scope, const char *id)
{
    return store_delete(s, &THRESHOLDS, "noise_threshold_id", id, scope, SCOPE_BY_ACCOUNT, NULL);
}
