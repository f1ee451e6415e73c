/* Devices: what a connected account brings, as its provider reports them. */
#include <string.h>

#include "store/resource.h"

static const db_column DEVICE_COLUMNS[] = {
    DB_SEQ(store_device),
    DB_COLUMN(store_device, device_id, DB_TEXT),
    DB_COLUMN(store_device, workspace_id, DB_TEXT),
    DB_COLUMN(store_device, connected_account_id, DB_TEXT),
    DB_COLUMN(store_device, device_type, DB_TEXT),
    DB_COLUMN(store_device, manufacturer, DB_TEXT),
    DB_COLUMN(store_device, name, DB_TEXT),
    DB_COLUMN(store_device, nickname, DB_TEXT),
    DB_COLUMN(store_device, model, DB_TEXT),
    DB_COLUMN(store_device, online, DB_BOOL),
    DB_COLUMN(store_device, locked, DB_TRISTATE),
    DB_COLUMN(store_device, battery_level, DB_REAL),
    DB_COLUMN(store_device, can_remotely_lock, DB_BOOL),
    DB_COLUMN(store_device, can_remotely_unlock, DB_BOOL),
    DB_COLUMN(store_device, provider_device_key, DB_TEXT),
    DB_COLUMN(store_device, extra_properties, DB_TEXT),
    DB_COLUMN(store_device, custom_metadata, DB_TEXT),
    DB_COLUMN(store_device, created_at, DB_INT),
    DB_COLUMN(store_device, offline_at, DB_INT0),
    DB_COLUMN(store_device, climate_moved_at, DB_INT0),
    DB_DEFAULTED(store_device, is_managed, DB_BOOL),
};

static const db_table DEVICES = {
    "devices", "d", DEVICE_COLUMNS, DB_COUNT(DEVICE_COLUMNS), sizeof(store_device),
    {ERR_NOT_FOUND, "device_not_found", "Device not found."},
};

err store_device_create(store *s, const store_device *d) { return db_insert(s->db, &DEVICES, d); }

/* What the provider reports is refreshed (the state too, unless
 * keep_state); the id, the user's nickname and metadata stay, and so does
 * whether it is managed: a device made unmanaged stays so when its account
 * is connected again (a sandbox login through another webview, a live
 * provider's new password) or its provider lists it anew, until
 * devices/unmanaged/update makes it managed, as at Seam. */
static err upsert(store *s, arena *a, store_device *d, bool keep_state, bool *created)
{
    static const char *const REPORTED[] = {"device_type", "manufacturer", "name", "model",
                                           "can_remotely_lock", "can_remotely_unlock",
                                           "extra_properties", "online", "locked",
                                           "battery_level", "offline_at"};
    size_t n = sizeof REPORTED / sizeof *REPORTED - (keep_state ? 4 : 0);
    sql_builder b;
    db_insert_sql(&b, a, &DEVICES, d);
    sql_builder_append(&b, " ON CONFLICT (connected_account_id, provider_device_key)"
                           " WHERE provider_device_key IS NOT NULL DO UPDATE SET");
    for (size_t i = 0; i < n; i++)
        sql_builder_appendf(&b, "%s %s = excluded.%s", i ? "," : "", REPORTED[i], REPORTED[i]);
    sql_builder_append(&b, " RETURNING device_id");
    db_text_out out = {a, NULL};
    err e = db_query(s->db, &b, db_read_text, &out);
    if (err_failed(e))
        return e;
    const char *kept = out.value;
    *created = kept && strcmp(kept, d->device_id) == 0;
    if (kept)
        d->device_id = kept;
    return ERR_NONE;
}

err store_device_upsert(store *s, arena *a, store_device *d, bool *created)
{
    return upsert(s, a, d, false, created);
}

err store_device_upsert_listed(store *s, arena *a, store_device *d, bool *created)
{
    return upsert(s, a, d, true, created);
}

err store_device_of_account(store *s, arena *a, const char *connected_account_id,
                            const char *provider_device_key, store_device *out)
{
    sql_builder b;
    db_select(&b, a, &DEVICES);
    query_eq(&b, "d.connected_account_id", connected_account_id);
    query_eq(&b, "d.provider_device_key", provider_device_key);
    sql_builder_append(&b, dialect_lock_rows(s->db));
    return db_one(s->db, a, &b, &DEVICES, out);
}

err store_device_set_state(store *s, const store_device *d)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE devices SET online = ?, locked = ?, battery_level = ?,"
                           " offline_at = ? WHERE device_id = ?");
    sql_builder_bind_bool(&b, d->online);
    if (d->locked < 0)
        sql_builder_bind_null(&b, SQL_BOOL);
    else
        sql_builder_bind_bool(&b, d->locked);
    if (d->battery_level < 0)
        sql_builder_bind_null(&b, SQL_REAL);
    else
        sql_builder_bind_real(&b, d->battery_level);
    if (d->offline_at)
        sql_builder_bind_int(&b, d->offline_at);
    else
        sql_builder_bind_null(&b, SQL_INT);
    sql_builder_bind_text(&b, d->device_id);
    err e = db_change(s->db, &b, &DEVICES);
    arena_free(&a);
    return e;
}

err store_devices_of_account(store *s, arena *a, const char *connected_account_id,
                             store_device **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &DEVICES);
    query_eq(&b, "d.connected_account_id", connected_account_id);
    sql_builder_append(&b, " ORDER BY d.seq");
    return db_rows(s->db, a, &b, &DEVICES, (void **)out, count);
}

err store_device_remove(store *s, const char *device_id)
{
    return db_changef(s->db, &DEVICES, "DELETE FROM devices WHERE device_id = ?", "s", device_id);
}

/* A capability flag of devices/list's include_if and exclude_if as SQL:
 * the two a device stores, and access codes (a lock whose properties give
 * its code rules, core/code_rules.h); latchkey's devices have none of the
 * others. */
static const char *flag_sql(const char *flag)
{
    if (strcmp(flag, "can_program_online_access_codes") == 0)
        return "COALESCE(d.extra_properties LIKE '%\"supported_code_lengths\"%', FALSE)";
    if (strcmp(flag, "can_remotely_lock") == 0)
        return "d.can_remotely_lock";
    if (strcmp(flag, "can_remotely_unlock") == 0)
        return "d.can_remotely_unlock";
    return "FALSE";
}

static void flags_sql(sql_builder *b, const str_list *flags, bool want)
{
    for (size_t i = 0; flags && i < flags->count; i++)
        sql_builder_appendf(b, " AND %s(%s)", want ? "" : "NOT ", flag_sql(flags->items[i]));
}

/* The scope's devices of `kind`; the condition on unmanaged devices is the
 * predicate of their partial index (devices_unmanaged_workspace_seq). */
static void select_in_scope(sql_builder *b, arena *a, const store_scope *scope,
                            store_device_kind kind)
{
    db_select(b, a, &DEVICES);
    scope_append(b, scope, "d", SCOPE_BY_ACCOUNT);
    if (kind != STORE_DEVICE_ANY)
        sql_builder_append(b, kind == STORE_DEVICE_MANAGED ? " AND d.is_managed"
                                                           : " AND NOT d.is_managed");
}

err store_device_list(store *s, arena *a, const store_scope *scope, const store_device_filter *f,
                      const store_page *page, store_device **out, size_t *count)
{
    static const char *const SEARCHED[] = {"d.name", "d.nickname"};
    sql_builder b;
    select_in_scope(&b, a, scope, f->kind);
    if (f->none)
        sql_builder_append(&b, " AND FALSE");
    flags_sql(&b, f->include_if, true);
    flags_sql(&b, f->exclude_if, false);
    query_customer(&b, "d", f->customer_key);
    query_in(&b, "d.device_id", f->device_ids);
    query_in(&b, "d.connected_account_id", f->connected_account_ids);
    query_in(&b, "d.device_type", f->device_types);
    query_eq(&b, "d.manufacturer", f->manufacturer);
    if (f->connect_webview_id) {
        sql_builder_append(&b, " AND d.connected_account_id = (SELECT connected_account_id FROM"
                               " connect_webviews WHERE connect_webview_id = ? AND workspace_id = ?)");
        sql_builder_bindf(&b, "ss", f->connect_webview_id, scope->workspace_id);
    }
    query_before(&b, "d.created_at", f->created_before);
    if (f->search)
        dialect_search(&b, s->db, SEARCHED, DB_COUNT(SEARCHED), "d.device_id", f->search);
    dialect_metadata(&b, s->db, "d.custom_metadata", f->metadata);
    query_page(&b, "d", page);
    return db_rows(s->db, a, &b, &DEVICES, (void **)out, count);
}

err store_device_get(store *s, arena *a, const store_scope *scope, const char *device_id,
                     const char *name, bool for_update, store_device *out)
{
    return store_device_find(s, a, scope, STORE_DEVICE_MANAGED, device_id, name, for_update, out);
}

err store_device_find(store *s, arena *a, const store_scope *scope, store_device_kind kind,
                      const char *device_id, const char *name, bool for_update,
                      store_device *out)
{
    sql_builder b;
    select_in_scope(&b, a, scope, kind);
    if (device_id) {
        query_eq(&b, "d.device_id", device_id);
    } else {
        sql_builder_append(&b, " AND (d.nickname = ? OR d.name = ?)");
        sql_builder_bindf(&b, "ss", name, name);
    }
    sql_builder_append(&b, " ORDER BY d.seq LIMIT 1");
    if (for_update)
        sql_builder_append(&b, dialect_lock_rows(s->db));
    return db_one(s->db, a, &b, &DEVICES, out);
}

/* Runs "UPDATE devices SET <set> WHERE device_id = ?" for the device within
 * scope; `set`'s values are bound in b already. */
static err update_in_scope(store *s, sql_builder *b, const store_scope *scope, const char *id)
{
    sql_builder_append(b, " WHERE device_id = ?");
    sql_builder_bind_text(b, id);
    scope_append_write(b, scope, &DEVICES, "device_id", SCOPE_BY_ACCOUNT);
    return db_change(s->db, b, &DEVICES);
}

err store_device_update(store *s, const store_scope *scope, const char *id, const char *nickname,
                        const char *custom_metadata)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE devices SET nickname = CASE WHEN ? IS NULL THEN nickname"
                           " WHEN ? = '' THEN NULL ELSE ? END,"
                           " custom_metadata = COALESCE(?, custom_metadata)");
    sql_builder_bindf(&b, "ssss", nickname, nickname, nickname, custom_metadata);
    err e = update_in_scope(s, &b, scope, id);
    arena_free(&a);
    return e;
}

/* "UPDATE devices SET <column> = <value>" for the device within scope. */
static err set_bool_in_scope(store *s, const store_scope *scope, const char *device_id,
                             const char *column, bool value)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_appendf(&b, "UPDATE devices SET %s = ?", column);
    sql_builder_bind_bool(&b, value);
    err e = update_in_scope(s, &b, scope, device_id);
    arena_free(&a);
    return e;
}

err store_device_set_locked(store *s, const store_scope *scope, const char *device_id,
                            bool locked)
{
    return set_bool_in_scope(s, scope, device_id, "locked", locked);
}

err store_device_set_managed(store *s, const store_scope *scope, const char *device_id,
                             bool managed)
{
    return set_bool_in_scope(s, scope, device_id, "is_managed", managed);
}

err store_device_delete(store *s, const store_scope *scope, const char *id, const store_event *ev)
{
    return store_delete(s, &DEVICES, "device_id", id, scope, SCOPE_BY_ACCOUNT, ev);
}

err store_device_set_properties(store *s, const store_scope *scope, const char *device_id,
                             const char *extra_properties, int64_t climate_moved_at)
{
    arena a;
    arena_init(&a);
    sql_builder b;
    sql_builder_init(&b, &a);
    sql_builder_append(&b, "UPDATE devices SET extra_properties = ?, climate_moved_at = ?");
    sql_builder_bind_text(&b, extra_properties);
    if (climate_moved_at)
        sql_builder_bind_int(&b, climate_moved_at);
    else
        sql_builder_bind_null(&b, SQL_INT);
    err e = update_in_scope(s, &b, scope, device_id);
    arena_free(&a);
    return e;
}

err store_thermostats_due(store *s, arena *a, int64_t moved_by, size_t limit, store_device **out,
                          size_t *count)
{
    sql_builder b;
    db_select(&b, a, &DEVICES);
    sql_builder_append(&b, " AND d.climate_moved_at <= ? ORDER BY d.climate_moved_at LIMIT ?");
    sql_builder_bindf(&b, "ii", moved_by, (int64_t)limit);
    return db_rows(s->db, a, &b, &DEVICES, (void **)out, count);
}

err store_thermostats_first_moved(store *s, int64_t *first)
{
    *first = 0;
    return db_intf(s->db, first,
                   "SELECT COALESCE(MIN(climate_moved_at), 0) FROM devices"
                   " WHERE climate_moved_at IS NOT NULL",
                   "");
}
