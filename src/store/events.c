/* Events: what happened, for events/list, scoped like the accounts they
 * are about. */
#include "core/ids.h"
#include "core/timeutil.h"
#include "store/resource.h"

static const db_column EVENT_COLUMNS[] = {
    DB_SEQ(store_event),
    DB_COLUMN(store_event, event_id, DB_TEXT),
    DB_COLUMN(store_event, workspace_id, DB_TEXT),
    DB_COLUMN(store_event, event_type, DB_TEXT),
    DB_COLUMN(store_event, device_id, DB_TEXT),
    DB_COLUMN(store_event, connected_account_id, DB_TEXT),
    DB_COLUMN(store_event, connect_webview_id, DB_TEXT),
    DB_COLUMN(store_event, client_session_id, DB_TEXT),
    DB_COLUMN(store_event, action_attempt_id, DB_TEXT),
    DB_COLUMN(store_event, created_at, DB_INT),
    DB_COLUMN(store_event, method, DB_TEXT),
    DB_COLUMN(store_event, access_code_id, DB_TEXT),
    DB_COLUMN(store_event, payload, DB_TEXT),
};

static const db_table EVENTS = {
    "events", "ev", EVENT_COLUMNS, DB_COUNT(EVENT_COLUMNS), sizeof(store_event),
    {ERR_NOT_FOUND, "event_not_found", "Event not found."},
};

err store_event_add(store *s, const store_event *ev) { return db_insert(s->db, &EVENTS, ev); }

err store_event_record(store *s, store_event ev)
{
    char id[UUID_STR_LEN];
    uuid_v4(id);
    ev.event_id = id;
    ev.created_at = time_now_ms();
    return store_event_add(s, &ev);
}

err store_event_get(store *s, arena *a, const store_scope *scope, const char *event_id,
                    store_event *out)
{
    return store_get(s, a, &EVENTS, "event_id", event_id, scope, SCOPE_BY_ACCOUNT, out);
}

err store_event_list(store *s, arena *a, const store_scope *scope, const store_event_filter *f,
                     const store_page *page, store_event **out, size_t *count)
{
    sql_builder b;
    db_select(&b, a, &EVENTS);
    scope_append(&b, scope, "ev", SCOPE_BY_ACCOUNT);
    if (f->since) {
        sql_builder_append(&b, " AND ev.created_at >= ?");
        sql_builder_bind_int(&b, f->since);
    }
    if (f->until) {
        sql_builder_append(&b, " AND ev.created_at <= ?");
        sql_builder_bind_int(&b, f->until);
    }
    query_in(&b, "ev.device_id", f->device_ids);
    query_in(&b, "ev.event_type", f->event_types);
    query_eq(&b, "ev.connected_account_id", f->connected_account_id);
    query_eq(&b, "ev.connect_webview_id", f->connect_webview_id);
    query_in(&b, "ev.event_id", f->event_ids);
    query_in(&b, "ev.access_code_id", f->access_code_ids);
    query_customer(&b, "ev", f->customer_key);
    if (f->newest_first) {
        sql_builder_append(&b, " ORDER BY ev.seq DESC LIMIT ?");
        sql_builder_bind_int(&b, (int64_t)page->limit);
    } else {
        query_page(&b, "ev", page);
    }
    if (f->offset > 0) {
        sql_builder_append(&b, " OFFSET ?");
        sql_builder_bind_int(&b, f->offset);
    }
    return db_rows(s->db, a, &b, &EVENTS, (void **)out, count);
}
