/* The one storage interface. Handlers call these functions; sqlite.c (and,
 * later, postgres.c) implement them, chosen by the database URL. Every read
 * or write of a scoped resource takes a store_scope and applies it in SQL.
 * Strings in returned records live in the caller's arena. */
#ifndef LATCHKEY_STORE_H
#define LATCHKEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

typedef struct store store;

/* Opens the database named by url ("sqlite:PATH" or a bare path) and
 * applies pending migrations. */
store *store_open(const char *url, err *e);
void store_close(store *s);

/* Runs fn in one transaction: committed when it succeeds, rolled back when
 * it fails. Store calls made by fn on this thread join the transaction. */
err store_transaction(store *s, err (*fn)(store *s, void *ctx), void *ctx);

/* What a caller may see. workspace_id is always set. With client_session_id
 * set, only what that session holds is visible; with user_identifier_key set
 * (a request narrowed to one user), only what that user's session holds, and
 * nothing when the user has no session. Both set: what both hold. */
typedef struct store_scope {
    const char *workspace_id;
    const char *client_session_id;
    const char *user_identifier_key;
} store_scope;

typedef struct str_list {
    const char **items;
    size_t count;
} str_list;

/* ---- workspaces and credentials ---- */

typedef struct store_workspace {
    const char *workspace_id;
    const char *name;
    const char *company_name;
    bool is_sandbox;
    const char *publishable_key;
    int64_t created_at;
} store_workspace;

err store_workspace_create(store *s, const store_workspace *w);
/* Returns false (and no error) when there is no such workspace. */
bool store_workspace_get(store *s, arena *a, const char *workspace_id, store_workspace *out,
                         err *e);
bool store_workspace_by_publishable_key(store *s, arena *a, const char *key,
                                        store_workspace *out, err *e);
int64_t store_workspace_count(store *s, err *e);

err store_api_key_create(store *s, const char *api_key_id, const char *workspace_id,
                         const char *name, const char *token_hash, int64_t created_at);
/* Finds the workspace of the API key with this token hash. */
bool store_api_key_lookup(store *s, arena *a, const char *token_hash,
                          const char **workspace_id_out, err *e);

/* ---- client sessions ---- */

typedef struct store_client_session {
    const char *client_session_id;
    const char *workspace_id;
    const char *user_identifier_key; /* NULL when none */
    const char *token_sealed;
    const char *user_identity_id;    /* NULL when none */
    const char *customer_key;        /* NULL when none */
    int64_t created_at;
    int64_t expires_at;
    int64_t revoked_at;              /* 0 when not revoked */
    str_list connected_account_ids;
    str_list connect_webview_ids;
    int64_t device_count;
} store_client_session;

typedef struct store_client_session_grants {
    str_list connected_account_ids;
    str_list connect_webview_ids;
    const char *user_identity_id; /* NULL: leave as is */
} store_client_session_grants;

/* Inserts the session and its grants in one transaction. A second session
 * for the same (workspace, user_identifier_key) fails with type
 * "client_session_token_already_exists". With replaces_id, that session's
 * grants pass to the new one and it is deleted, in the same transaction. */
err store_client_session_create(store *s, const store_client_session *cs, const char *token_hash,
                                const store_client_session_grants *grants,
                                const char *replaces_id);
/* The session's own fields only (no id lists; device_count 0): what
 * authentication needs. */
bool store_client_session_by_token_hash(store *s, arena *a, const char *token_hash,
                                        store_client_session *out, err *e);
/* Looks up by id, or by user_identifier_key when id is NULL. */
bool store_client_session_get(store *s, arena *a, const char *workspace_id, const char *id,
                              const char *user_identifier_key, store_client_session *out,
                              err *e);

typedef struct store_client_session_filter {
    const char *client_session_id;
    const char *user_identifier_key;
    const char *connect_webview_id;
    const char *user_identity_id;
    bool without_user_identifier_key;
} store_client_session_filter;

err store_client_session_list(store *s, arena *a, const char *workspace_id,
                              const store_client_session_filter *f, store_client_session **out,
                              size_t *count);
/* Adds grants to an existing session, and sets its expiry when expires_at
 * is not 0; false when it does not exist. */
bool store_client_session_grant(store *s, const char *workspace_id, const char *id,
                                const store_client_session_grants *grants, int64_t expires_at,
                                err *e);
bool store_client_session_revoke(store *s, const char *workspace_id, const char *id,
                                 int64_t now, err *e);
bool store_client_session_delete(store *s, const char *workspace_id, const char *id, err *e);

/* ---- ids a request names ---- */

typedef enum store_kind {
    STORE_CONNECTED_ACCOUNT,
    STORE_CONNECT_WEBVIEW,
    STORE_USER_IDENTITY,
} store_kind;

/* Index of the first id in ids that is not a `kind` of this workspace, or -1
 * when all are. */
long store_first_missing(store *s, store_kind kind, const char *workspace_id,
                         const str_list *ids, err *e);

/* ---- connected accounts, connect webviews, user identities ---- */

typedef struct store_connected_account {
    const char *connected_account_id;
    const char *workspace_id;
    const char *provider;
    const char *user_email;
    int64_t created_at;
} store_connected_account;

err store_connected_account_create(store *s, const store_connected_account *ca);

typedef struct store_connect_webview {
    const char *connect_webview_id;
    const char *workspace_id;
    const char *connected_account_id; /* NULL until authorized */
    const char *status;
    int64_t created_at;
} store_connect_webview;

err store_connect_webview_create(store *s, const store_connect_webview *cw);

typedef struct store_user_identity {
    const char *user_identity_id;
    const char *workspace_id;
    const char *user_identity_key;
    const char *email_address;
    const char *phone_number;
    const char *full_name;
    int64_t created_at;
} store_user_identity;

err store_user_identity_create(store *s, const store_user_identity *ui);

/* ---- devices ---- */

typedef struct store_device {
    int64_t seq;
    const char *device_id;
    const char *workspace_id;
    const char *connected_account_id;
    const char *device_type;
    const char *manufacturer;     /* NULL when unknown */
    const char *name;             /* the provider's name for it */
    const char *nickname;         /* the user's name for it, or NULL */
    const char *model;            /* NULL when unknown */
    bool online;
    int locked;                   /* -1 not a lock, 0 unlocked, 1 locked */
    double battery_level;         /* < 0 when unknown */
    const char *extra_properties; /* opaque serialized object, or NULL */
    const char *custom_metadata;  /* opaque serialized object, or NULL */
    int64_t created_at;
} store_device;

err store_device_create(store *s, const store_device *d);

typedef struct store_device_filter {
    const str_list *device_ids;            /* NULL: any */
    const str_list *connected_account_ids; /* NULL: any */
    const str_list *device_types;          /* NULL: any */
    const char *manufacturer;              /* NULL: any */
    int64_t after_seq;                     /* keyset pagination: seq > after_seq */
    size_t limit;                          /* rows to return at most */
} store_device_filter;

err store_device_list(store *s, arena *a, const store_scope *scope, const store_device_filter *f,
                      store_device **out, size_t *count);
/* By id, or by name (nickname or provider name) when device_id is NULL. */
bool store_device_get(store *s, arena *a, const store_scope *scope, const char *device_id,
                      const char *name, store_device *out, err *e);

#endif
