/* Live providers' bookkeeping: which node holds an account's connection
 * (provider_links, a lease renewed while the node lives) and the
 * connections asked for in a connect webview that a node is making
 * (live_connects). Neither table has generation triggers: the API shows
 * nothing of them. */
#include "store/resource.h"

static const db_column CONNECT_COLUMNS[] = {
    DB_COLUMN(store_live_connect, connect_webview_id, DB_TEXT),
    DB_COLUMN(store_live_connect, provider, DB_TEXT),
    DB_COLUMN(store_live_connect, login, DB_TEXT),
    DB_COLUMN(store_live_connect, settings_sealed, DB_TEXT),
    DB_COLUMN(store_live_connect, owner, DB_TEXT),
    DB_COLUMN(store_live_connect, expires_at, DB_INT),
    DB_COLUMN(store_live_connect, error, DB_TEXT),
    DB_COLUMN(store_live_connect, created_at, DB_INT),
};

static const db_table CONNECTS = {
    "live_connects", "lc", CONNECT_COLUMNS, DB_COUNT(CONNECT_COLUMNS),
    sizeof(store_live_connect),
    {ERR_NOT_FOUND, "live_connect_not_found", "No connection is being made."},
};

err store_live_connect_request(store *s, const store_live_connect *lc)
{
    return db_changef(s->db, &CONNECTS,
                      "INSERT INTO live_connects (connect_webview_id, provider, login,"
                      " settings_sealed, owner, expires_at, error, created_at)"
                      " VALUES (?, ?, ?, ?, NULL, 0, NULL, ?)"
                      " ON CONFLICT (connect_webview_id) DO UPDATE SET provider = excluded.provider,"
                      " login = excluded.login, settings_sealed = excluded.settings_sealed,"
                      " owner = NULL, expires_at = 0, error = NULL, created_at = excluded.created_at",
                      "ssssi", lc->connect_webview_id, lc->provider, lc->login,
                      lc->settings_sealed, lc->created_at);
}

err store_live_connect_get(store *s, arena *a, const char *connect_webview_id,
                           store_live_connect *out)
{
    sql_builder b;
    db_select(&b, a, &CONNECTS);
    query_eq(&b, "lc.connect_webview_id", connect_webview_id);
    return db_one(s->db, a, &b, &CONNECTS, out);
}

err store_live_connect_claim(store *s, arena *a, const char *owner, int64_t now,
                             int64_t lease_ms, size_t limit, store_live_connect **out,
                             size_t *count)
{
    sql_builder b;
    sql_builder_init(&b, a);
    sql_builder_appendf(&b, "UPDATE live_connects SET owner = ?, expires_at = ?"
                            " WHERE connect_webview_id IN (SELECT connect_webview_id"
                            " FROM live_connects WHERE settings_sealed IS NOT NULL"
                            " AND expires_at <= ? ORDER BY expires_at LIMIT ?%s) RETURNING ",
                        dialect_claim_rows(s->db));
    db_columns(&b, &CONNECTS, NULL);
    sql_builder_bindf(&b, "siii", owner, now + lease_ms, now, (int64_t)limit);
    return db_rows(s->db, a, &b, &CONNECTS, (void **)out, count);
}

err store_live_connect_fail(store *s, const char *connect_webview_id, const char *owner,
                            const char *error)
{
    return db_changef(s->db, &CONNECTS,
                      "UPDATE live_connects SET settings_sealed = NULL, owner = NULL, error = ?"
                      " WHERE connect_webview_id = ? AND owner = ? AND settings_sealed IS NOT NULL",
                      "sss", error, connect_webview_id, owner);
}

err store_live_connect_done(store *s, const char *connect_webview_id, const char *owner)
{
    return db_changef(s->db, &CONNECTS,
                      "DELETE FROM live_connects WHERE connect_webview_id = ? AND owner = ?",
                      "ss", connect_webview_id, owner);
}

err store_provider_link_add(store *s, const char *connected_account_id)
{
    return db_execf(s->db, NULL,
                    "INSERT INTO provider_links (connected_account_id, owner, expires_at)"
                    " VALUES (?, NULL, 0) ON CONFLICT (connected_account_id) DO NOTHING",
                    "s", connected_account_id);
}

typedef struct link_claim {
    arena *a;
    const char *owner;
    int64_t now, lease_ms;
    store_connected_account **out;
    size_t *count;
} link_claim;

static err claim_links(store *s, void *ctx)
{
    link_claim *c = ctx;
    err e = db_execf(s->db, NULL,
                     "UPDATE provider_links SET owner = ?, expires_at = ?"
                     " WHERE owner = ? OR expires_at <= ?",
                     "sisi", c->owner, c->now + c->lease_ms, c->owner, c->now);
    if (err_failed(e))
        return e;
    return store_connected_accounts_linked(s, c->a, c->owner, c->out, c->count);
}

err store_provider_links_claim(store *s, arena *a, const char *owner, int64_t now,
                               int64_t lease_ms, store_connected_account **out, size_t *count)
{
    link_claim c = {a, owner, now, lease_ms, out, count};
    return store_transaction(s, claim_links, &c);
}

err store_provider_links_release(store *s, const char *owner)
{
    return db_execf(s->db, NULL,
                    "UPDATE provider_links SET owner = NULL, expires_at = 0 WHERE owner = ?", "s",
                    owner);
}
