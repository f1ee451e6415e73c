/* Workspaces and their API keys. */
#include "store/resource.h"

static const db_column WORKSPACE_COLUMNS[] = {
    DB_COLUMN(store_workspace, workspace_id, DB_TEXT),
    DB_COLUMN(store_workspace, name, DB_TEXT),
    DB_COLUMN(store_workspace, company_name, DB_TEXT),
    DB_COLUMN(store_workspace, is_sandbox, DB_BOOL),
    DB_COLUMN(store_workspace, publishable_key, DB_TEXT),
    DB_COLUMN(store_workspace, created_at, DB_INT),
};

static const db_table WORKSPACES = {
    "workspaces", "w", WORKSPACE_COLUMNS, DB_COUNT(WORKSPACE_COLUMNS), sizeof(store_workspace),
    {ERR_NOT_FOUND, "workspace_not_found", "Workspace not found."},
};

err store_workspace_create(store *s, const store_workspace *w)
{
    return db_insert(s->db, &WORKSPACES, w);
}

static err workspace_by(store *s, arena *a, const char *column, const char *value,
                        store_workspace *out)
{
    sql_builder b;
    db_select(&b, a, &WORKSPACES);
    query_eq(&b, column, value);
    return db_one(s->db, a, &b, &WORKSPACES, out);
}

err store_workspace_get(store *s, arena *a, const char *workspace_id, store_workspace *out)
{
    return workspace_by(s, a, "w.workspace_id", workspace_id, out);
}

err store_workspace_by_publishable_key(store *s, arena *a, const char *key, store_workspace *out)
{
    return workspace_by(s, a, "w.publishable_key", key, out);
}

err store_workspace_count(store *s, int64_t *count)
{
    *count = 0;
    return db_intf(s->db, count, "SELECT COUNT(*) FROM workspaces", "");
}

/* ---- API keys ---- */

typedef struct api_key {
    const char *api_key_id;
    const char *workspace_id;
    const char *name;
    const char *token_hash;
    int64_t created_at;
} api_key;

static const db_column API_KEY_COLUMNS[] = {
    DB_COLUMN(api_key, api_key_id, DB_TEXT),   DB_COLUMN(api_key, workspace_id, DB_TEXT),
    DB_COLUMN(api_key, name, DB_TEXT),         DB_COLUMN(api_key, token_hash, DB_TEXT),
    DB_COLUMN(api_key, created_at, DB_INT),
};

static const db_table API_KEYS = {
    "api_keys", "k", API_KEY_COLUMNS, DB_COUNT(API_KEY_COLUMNS), sizeof(api_key),
    {ERR_NOT_FOUND, "api_key_not_found", "API key not found."},
};

err store_api_key_create(store *s, const char *api_key_id, const char *workspace_id,
                         const char *name, const char *token_hash, int64_t created_at)
{
    api_key k = {api_key_id, workspace_id, name, token_hash, created_at};
    return db_insert(s->db, &API_KEYS, &k);
}

err store_api_key_lookup(store *s, arena *a, const char *token_hash,
                         const char **workspace_id_out)
{
    sql_builder b;
    db_select(&b, a, &API_KEYS);
    query_eq(&b, "k.token_hash", token_hash);
    api_key k;
    err e = db_one(s->db, a, &b, &API_KEYS, &k);
    *workspace_id_out = err_failed(e) ? NULL : k.workspace_id;
    return e;
}
