/* The one storage interface. Handlers call these functions; one file per
 * resource implements them against the driver interface (db.h), on SQLite
 * or PostgreSQL, chosen by the database URL. Every read or write of a scoped
 * resource takes a store_scope and applies it in SQL.
 *
 * One return convention: every call returns an err. A lookup, update or
 * delete that finds nothing (absent, or outside the caller's scope) returns
 * that resource's not-found error (kind ERR_NOT_FOUND, type such as
 * "device_not_found"), ready to answer with; store_not_found() tells it from
 * a failure. A database that cannot be reached gives ERR_UNAVAILABLE (503).
 * Strings in returned records live in the caller's arena. */
#ifndef LATCHKEY_STORE_H
#define LATCHKEY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str_list.h"

typedef struct store store;
struct store_event;

/* Opens the database named by url ("sqlite:PATH", a bare path, or a
 * "postgres://" / "postgresql://" URL; libpq's environment such as
 * PGPASSWORD and PGSSLMODE applies) and applies pending migrations, once
 * even when several nodes start together. Refuses a schema newer than this
 * build knows. */
store *store_open(const char *url, err *e);
void store_close(store *s);

/* Keeps the database's query planning current (statistics, on SQLite; done
 * at open too): call it now and then, e.g. every few minutes, and with
 * when_outdated every few seconds (it does something only when a table has
 * doubled since, which costs a few index lookups to find out). */
err store_maintain(store *s, bool when_outdated);

/* Runs fn in one transaction: committed when it succeeds, rolled back when
 * it fails. Store calls made by fn on this thread join the transaction
 * (nested calls become savepoints). A transaction that fails on a
 * serialization failure or deadlock is run again from the start, so fn must
 * have no effect outside the store. */
err store_transaction(store *s, err (*fn)(store *s, void *ctx), void *ctx);

/* This thread's commits are answered before they are on disk (a crash may
 * lose the last of them, whole): for work that is done again when lost
 * (db_relax_durability). */
void store_relax_durability(store *s);

/* Runs fn read-only on one snapshot of the database: everything it reads,
 * through any store call on this thread, is as of one moment. */
err store_read(store *s, err (*fn)(store *s, void *ctx), void *ctx);

/* The workspace's generation: a number that changes with every committed
 * change to anything of the workspace, by any process or node. The same
 * number read at two moments means nothing of the workspace changed in
 * between. Inside store_read it is the snapshot's; outside a transaction it
 * is read by a statement that starts after this call began (on PostgreSQL
 * concurrent callers share that statement), so it reflects every change
 * committed before the call. */
err store_workspace_generation(store *s, const char *workspace_id, int64_t *gen);

/* Whether e is a not-found answer rather than a failure. */
static inline bool store_not_found(err e) { return e.kind == ERR_NOT_FOUND; }

/* What a caller may see. workspace_id is always set. With client_session_id
 * set, only what that session holds is visible; with user_identifier_key set
 * (a request narrowed to one user), only what that user's session holds, and
 * nothing when the user has no session. Both set: what both hold. */
typedef struct store_scope {
    const char *workspace_id;
    const char *client_session_id;
    const char *user_identifier_key;
} store_scope;

typedef struct store_page {
    int64_t after_seq; /* keyset pagination: seq > after_seq */
    size_t limit;      /* rows to return at most */
} store_page;

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
err store_workspace_get(store *s, arena *a, const char *workspace_id, store_workspace *out);
err store_workspace_by_publishable_key(store *s, arena *a, const char *key,
                                       store_workspace *out);
err store_workspace_count(store *s, int64_t *count);

err store_api_key_create(store *s, const char *api_key_id, const char *workspace_id,
                         const char *name, const char *token_hash, int64_t created_at);
/* Finds the workspace of the API key with this token hash. */
err store_api_key_lookup(store *s, arena *a, const char *token_hash,
                         const char **workspace_id_out);

/* ---- client sessions ---- */

typedef struct store_client_session {
    int64_t seq; /* list order */
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
 * "client_session_token_already_exists", also when another node inserts it
 * at the same moment. With replaces_id, that session's grants pass to the
 * new one and it is deleted, in the same transaction. */
err store_client_session_create(store *s, const store_client_session *cs, const char *token_hash,
                                const store_client_session_grants *grants,
                                const char *replaces_id);
/* The session's own fields only (no id lists; device_count 0): what
 * authentication needs. */
err store_client_session_by_token_hash(store *s, arena *a, const char *token_hash,
                                       store_client_session *out);
/* Looks up by id, or by user_identifier_key when id is NULL. */
err store_client_session_get(store *s, arena *a, const char *workspace_id, const char *id,
                             const char *user_identifier_key, store_client_session *out);

typedef struct store_client_session_filter {
    const char *client_session_id;
    const char *user_identifier_key;
    const char *connect_webview_id;
    const char *user_identity_id;
    bool without_user_identifier_key;
} store_client_session_filter;

/* In creation order; one page of them, or all when page is NULL. */
err store_client_session_list(store *s, arena *a, const char *workspace_id,
                              const store_client_session_filter *f, const store_page *page,
                              store_client_session **out, size_t *count);
/* Adds grants to an existing session, and sets its expiry when expires_at
 * is not 0. */
err store_client_session_grant(store *s, const char *workspace_id, const char *id,
                               const store_client_session_grants *grants, int64_t expires_at);
err store_client_session_revoke(store *s, const char *workspace_id, const char *id,
                                int64_t now);
/* Deletes the session and records ev (when not NULL) in one transaction. */
err store_client_session_delete(store *s, const char *workspace_id, const char *id,
                                const struct store_event *ev);

/* ---- ids a request names ---- */

typedef enum store_kind {
    STORE_CONNECTED_ACCOUNT,
    STORE_CONNECT_WEBVIEW,
    STORE_USER_IDENTITY,
} store_kind;

/* *missing: the index of the first id in ids that is not a `kind` of this
 * workspace, or -1 when all are. */
err store_first_missing(store *s, store_kind kind, const char *workspace_id, const str_list *ids,
                        long *missing);

/* ---- custom metadata ---- */

/* One key:value pair that custom_metadata must hold (a string or a bool). */
typedef struct metadata_match {
    const char *key;
    bool is_bool;
    bool bool_value;
    const char *str_value;
} metadata_match;

typedef struct metadata_filter {
    const metadata_match *items;
    size_t count;
} metadata_filter;

/* ---- connected accounts ---- */

typedef struct store_connected_account {
    int64_t seq;
    const char *connected_account_id;
    const char *workspace_id;
    const char *provider;
    const char *user_email;
    const char *provider_login;  /* the login at the provider, or NULL */
    const char *display_name;    /* NULL: derived from the provider and email */
    const char *custom_metadata; /* opaque serialized object, or NULL */
    int64_t created_at;
    const char *settings_sealed; /* a live provider's settings, sealed; NULL otherwise */
    const char *error_code;      /* the account's error (live providers), or NULL */
    const char *error_message;
    int64_t error_at;
    const char *customer_key;    /* the customer it belongs to, or NULL */
    const char *accepted_capabilities; /* comma-separated, or NULL: its provider's */
} store_connected_account;

err store_connected_account_create(store *s, const store_connected_account *ca);
/* Creates the account, or when the workspace already has one of this
 * provider login, sets *ca to that one: one statement by the unique
 * constraint, so concurrent connections of one login (from two tabs, or
 * two nodes) make one account. *created tells which. */
err store_connected_account_connect(store *s, arena *a, store_connected_account *ca,
                                    bool *created);
/* By id, or by the account's email when id is NULL. With for_update, inside
 * a transaction, the row stays locked until it ends (read-modify-write). */
err store_connected_account_get(store *s, arena *a, const store_scope *scope, const char *id,
                                const char *email, bool for_update,
                                store_connected_account *out);

/* Gives the account to a customer; not found when it has one already. */
err store_connected_account_set_customer(store *s, const char *id, const char *customer_key);
/* A live account's new settings (connected again, with a new password). */
err store_connected_account_set_settings(store *s, const char *id, const char *settings_sealed);
/* The accounts whose provider link this owner holds (provider_links). */
err store_connected_accounts_linked(store *s, arena *a, const char *owner,
                                    store_connected_account **out, size_t *count);
/* Sets the account's error (code NULL: clears it); *changed tells whether
 * it had none before and has one now, or the other way round. */
err store_connected_account_set_error(store *s, const char *id, const char *code,
                                      const char *message, int64_t at, bool *changed);

/* The filters of connected_accounts/list and connect_webviews/list. */
typedef struct store_list_filter {
    const metadata_filter *metadata; /* NULL: any */
    const char *customer_key;        /* NULL: any */
    const char *search;              /* a part of the resource's searched fields; NULL: any */
    bool none;                       /* match nothing (a filter on what latchkey lacks) */
} store_list_filter;

err store_connected_account_list(store *s, arena *a, const store_scope *scope,
                                 const store_list_filter *f, const store_page *page,
                                 store_connected_account **out, size_t *count);
/* Sets display_name, custom_metadata and/or accepted_capabilities (NULL:
 * leave as is). */
err store_connected_account_update(store *s, const store_scope *scope, const char *id,
                                   const char *display_name, const char *custom_metadata,
                                   const char *accepted_capabilities);
/* Deletes the account and records ev (when not NULL), in one transaction;
 * its devices and every session's grant of it go too. */
err store_connected_account_delete(store *s, const store_scope *scope, const char *id,
                                   const struct store_event *ev);

/* ---- connect webviews ---- */

typedef struct store_connect_webview {
    int64_t seq;
    const char *connect_webview_id;
    const char *workspace_id;
    const char *connected_account_id; /* NULL until authorized */
    const char *status;               /* pending, authorized, failed */
    const char *auth_token_sealed;    /* the URL's token, sealed; NULL for none */
    const char *accepted_providers;   /* provider names, comma-separated */
    const char *custom_redirect_url;
    const char *custom_redirect_failure_url;
    const char *custom_metadata;      /* opaque serialized object, or NULL */
    const char *device_selection_mode;
    const char *selected_provider;
    bool login_successful;
    int64_t failed_logins;
    const char *error;                /* why it failed, or NULL */
    int64_t authorized_at;            /* 0 when not */
    int64_t created_at;
    const char *customer_key;         /* the customer its account is for, or NULL */
    const char *accepted_capabilities; /* comma-separated, or NULL: its providers' */
} store_connect_webview;

err store_connect_webview_create(store *s, const store_connect_webview *cw);
/* Within the scope: a client session sees the webviews it holds. */
err store_connect_webview_get(store *s, arena *a, const store_scope *scope, const char *id,
                              store_connect_webview *out);
/* By id alone, for the webview's own page, whose URL token the caller checks. */
err store_connect_webview_for_page(store *s, arena *a, const char *id,
                                   store_connect_webview *out);
err store_connect_webview_list(store *s, arena *a, const store_scope *scope,
                               const store_list_filter *f, const store_page *page,
                               store_connect_webview **out, size_t *count);
/* Ends a pending webview: writes status, connected_account_id,
 * selected_provider, login_successful, error and authorized_at. Not found
 * when it is no longer pending: another tab (or node) ended it first. */
err store_connect_webview_update(store *s, const store_connect_webview *cw);
/* Counts a failed sign-in of a pending webview: *count is the new count.
 * Not found when it is no longer pending. */
err store_connect_webview_failed_login(store *s, const char *workspace_id, const char *id,
                                       int64_t *count);
err store_connect_webview_delete(store *s, const store_scope *scope, const char *id);

/* ---- user identities ---- */

typedef struct store_user_identity {
    int64_t seq;
    const char *user_identity_id;
    const char *workspace_id;
    const char *user_identity_key;
    const char *email_address;
    const char *phone_number;
    const char *full_name;
    int64_t created_at;
} store_user_identity;

/* A second identity with the same user_identity_key in the workspace fails
 * with type "user_identity_key_already_exists". */
err store_user_identity_create(store *s, const store_user_identity *ui);
/* By id, or by user_identity_key when id is NULL. */
err store_user_identity_get(store *s, arena *a, const char *workspace_id, const char *id,
                            const char *key, store_user_identity *out);

typedef struct store_user_identity_filter {
    const str_list *ids; /* NULL: any */
    const char *search;  /* in key, email, phone or name; NULL: any */
    int64_t created_before;
    bool none;           /* match nothing (a filter on what latchkey lacks) */
} store_user_identity_filter;

err store_user_identity_list(store *s, arena *a, const char *workspace_id,
                             const store_user_identity_filter *f, const store_page *page,
                             store_user_identity **out, size_t *count);
/* Writes key, email, phone and name (same conflict as create). */
err store_user_identity_update(store *s, const store_user_identity *ui);
err store_user_identity_delete(store *s, const char *workspace_id, const char *id);

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
    bool can_remotely_lock;
    bool can_remotely_unlock;
    const char *provider_device_key; /* the provider's id for it, or NULL */
    const char *extra_properties; /* opaque serialized object, or NULL */
    const char *custom_metadata;  /* opaque serialized object, or NULL */
    int64_t created_at;
    int64_t offline_at;           /* when it went offline, 0 when online or unknown */
    int64_t climate_moved_at;     /* a sandbox thermostat that heats or cools: when its
                                     temperature last moved; 0 while it rests */
    bool is_managed;              /* read only: a new device is managed (the column's
                                   * default); store_device_set_managed changes it */
} store_device;

/* Which devices a read sees. An unmanaged device is out of the API's sight
 * but for the devices/unmanaged routes; its provider keeps it current all
 * the same. */
typedef enum store_device_kind {
    STORE_DEVICE_MANAGED,   /* what the devices, locks, thermostats and access codes routes see */
    STORE_DEVICE_UNMANAGED, /* the devices/unmanaged routes */
    STORE_DEVICE_ANY,       /* both: work that goes on whatever the API shows */
} store_device_kind;

err store_device_create(store *s, const store_device *d);
/* Creates the device, or when its account already has one with the same
 * provider_device_key, refreshes what the provider reports (keeping its id,
 * nickname and metadata): one statement, by the unique constraint, so
 * concurrent upserts of one device make one row. d->device_id is set to the
 * id kept. */
err store_device_upsert(store *s, arena *a, store_device *d, bool *created);
/* store_device_upsert from a live provider's device list: a device already
 * there keeps its state (online, locked, battery), which the provider's
 * state reports keep. */
err store_device_upsert_listed(store *s, arena *a, store_device *d, bool *created);
/* The account's device with this provider key, managed or not, locked for
 * the rest of the transaction (read-modify-write of a state report). */
err store_device_of_account(store *s, arena *a, const char *connected_account_id,
                            const char *provider_device_key, store_device *out);
/* Sets online, locked, battery_level and offline_at as d has them. */
err store_device_set_state(store *s, const store_device *d);
/* Every device of the account, managed or not (the links job's, unscoped). */
err store_devices_of_account(store *s, arena *a, const char *connected_account_id,
                             store_device **out, size_t *count);
/* Deletes the device (gone from its provider's list). */
err store_device_remove(store *s, const char *device_id);

typedef struct store_device_filter {
    const str_list *device_ids;            /* NULL: any */
    const str_list *connected_account_ids; /* NULL: any */
    const str_list *device_types;          /* NULL: any */
    const char *manufacturer;              /* NULL: any */
    const char *connect_webview_id;        /* NULL: any */
    int64_t created_before;                /* 0: any */
    const char *search;                    /* in names; NULL: any */
    const metadata_filter *metadata;       /* NULL: any */
    const str_list *include_if;            /* capability flags each must have */
    const str_list *exclude_if;            /* ... and must not have */
    const char *customer_key;              /* its account's customer; NULL: any */
    bool none;                             /* match nothing (a filter on what latchkey lacks) */
    store_device_kind kind;                /* managed ones (0) unless set */
} store_device_filter;

err store_device_list(store *s, arena *a, const store_scope *scope, const store_device_filter *f,
                      const store_page *page, store_device **out, size_t *count);
/* A managed device by id, or by name (nickname or provider name) when
 * device_id is NULL. With for_update, inside a transaction, the row stays
 * locked until it ends. */
err store_device_get(store *s, arena *a, const store_scope *scope, const char *device_id,
                     const char *name, bool for_update, store_device *out);
/* store_device_get among the devices of `kind`. */
err store_device_find(store *s, arena *a, const store_scope *scope, store_device_kind kind,
                      const char *device_id, const char *name, bool for_update,
                      store_device *out);
/* Sets the nickname ("" clears it) and/or custom_metadata; NULL leaves it. */
err store_device_update(store *s, const store_scope *scope, const char *id, const char *nickname,
                        const char *custom_metadata);
err store_device_set_locked(store *s, const store_scope *scope, const char *device_id,
                            bool locked);
/* Makes the device managed or unmanaged. */
err store_device_set_managed(store *s, const store_scope *scope, const char *device_id,
                             bool managed);
/* Deletes the device and records ev (when not NULL) in one transaction. */
err store_device_delete(store *s, const store_scope *scope, const char *id,
                        const struct store_event *ev);

/* ---- action attempts ---- */

typedef struct store_action_attempt {
    int64_t seq;
    const char *action_attempt_id;
    const char *workspace_id;
    const char *device_id;
    const char *connected_account_id;
    const char *action_type; /* LOCK_DOOR, UNLOCK_DOOR */
    const char *status;      /* pending, running, success, error */
    const char *error_type;
    const char *error_message;
    int64_t created_at;
    int64_t due_at;
    int64_t completed_at;    /* 0 while not done */
    const char *lease_owner; /* the node working on it, while running */
    int64_t lease_expires_at;
    const char *params;      /* a JSON object (thermostat actions), or NULL */
} store_action_attempt;

err store_action_attempt_create(store *s, const store_action_attempt *aa);
err store_action_attempt_get(store *s, arena *a, const store_scope *scope, const char *id,
                             store_action_attempt *out);
err store_action_attempt_list(store *s, arena *a, const store_scope *scope, const str_list *ids,
                              const char *device_id, const store_page *page,
                              store_action_attempt **out, size_t *count);
/* Claims up to `limit` attempts for `owner`, oldest due first: pending ones
 * due by `now`, and running ones whose lease ran out (their node died).
 * Each becomes running with a lease of lease_ms held by owner. Attempts
 * another node holds, or is claiming at this moment, are skipped, and so
 * are those on live providers' devices whose connection another node holds
 * (or none does yet). */
err store_action_attempt_claim(store *s, arena *a, const char *owner, int64_t now,
                               int64_t lease_ms, size_t limit, store_action_attempt **out,
                               size_t *count);
/* Of the attempts ids, those still pending or running (the rest are
 * finished, or gone), into *out (count of them in *count). Not scoped: for
 * the HTTP layer, to know which parked requests to wake; what they answer
 * is read scoped. */
err store_action_attempts_unfinished(store *s, arena *a, const str_list *ids, const char ***out,
                                     size_t *count);
/* When the next attempt becomes claimable (due, or its lease runs out); 0
 * when none will. */
err store_action_attempt_next_due(store *s, const char *owner, int64_t *next);
/* Keeps a running attempt this owner's until `until` (a live provider's
 * device is answering); not found when it is no longer this owner's. */
err store_action_attempt_extend(store *s, const char *id, const char *owner, int64_t until);
/* running -> pending, for an attempt of owner's whose outcome could not be
 * recorded. */
err store_action_attempt_release(store *s, const char *id, const char *owner);
/* Records the outcome while owner still holds the lease; not found when it
 * does not (another node took the attempt over). */
err store_action_attempt_finish(store *s, const char *id, const char *owner, const char *status,
                                const char *error_type, const char *error_message,
                                int64_t completed_at);

/* ---- events ---- */

typedef struct store_event {
    int64_t seq;
    const char *event_id;
    const char *workspace_id;
    const char *event_type;
    const char *device_id;            /* each NULL when not about one */
    const char *connected_account_id;
    const char *connect_webview_id;
    const char *client_session_id;
    const char *action_attempt_id;
    int64_t created_at;
    const char *method;               /* lock events: how the lock was operated */
    const char *access_code_id;
    const char *payload;              /* a JSON object of the event's own fields, or NULL */
} store_event;

err store_event_add(store *s, const store_event *ev);
/* store_event_add with a fresh event_id and created_at now. */
err store_event_record(store *s, store_event ev);
err store_event_get(store *s, arena *a, const store_scope *scope, const char *event_id,
                    store_event *out);

typedef struct store_event_filter {
    int64_t since;                 /* created_at >= since; 0: any */
    int64_t until;                 /* created_at <= until; 0: any */
    const str_list *device_ids;    /* NULL: any */
    const str_list *event_types;   /* NULL: any */
    const char *connected_account_id;
    const char *connect_webview_id;
    const str_list *event_ids;     /* NULL: any */
    const char *customer_key;      /* the account's customer; NULL: any */
    const str_list *access_code_ids; /* NULL: any */
    int64_t offset;                /* rows skipped before the page */
    bool newest_first;             /* the page from the newest (else the oldest) */
} store_event_filter;

err store_event_list(store *s, arena *a, const store_scope *scope, const store_event_filter *f,
                     const store_page *page, store_event **out, size_t *count);

/* ---- live providers' connections (live.c) ---- */

/* A connection asked for in a connect webview, being made by a node. */
typedef struct store_live_connect {
    const char *connect_webview_id;
    const char *provider;
    const char *login;           /* what makes it the same account as another */
    const char *settings_sealed; /* NULL once the try is over */
    const char *owner;           /* the node making it */
    int64_t expires_at;          /* its lease; 0: due */
    const char *error;           /* why the last try failed, for the form */
    int64_t created_at;
} store_live_connect;

/* Asks for the connection (replacing an earlier try of the webview). */
err store_live_connect_request(store *s, const store_live_connect *lc);
/* The webview's try, for its page; not found when there is none. */
err store_live_connect_get(store *s, arena *a, const char *connect_webview_id,
                           store_live_connect *out);
/* Tries that are due (new, or whose node's lease ran out), now this
 * owner's until now + lease_ms. */
err store_live_connect_claim(store *s, arena *a, const char *owner, int64_t now,
                             int64_t lease_ms, size_t limit, store_live_connect **out,
                             size_t *count);
/* The try failed: its settings are dropped, the error stays for the form;
 * not found when it is no longer this owner's. */
err store_live_connect_fail(store *s, const char *connect_webview_id, const char *owner,
                            const char *error);
/* The try made the account (in the transaction that makes it). */
err store_live_connect_done(store *s, const char *connect_webview_id, const char *owner);

/* The account has a live provider: some node is to hold its connection. */
err store_provider_link_add(store *s, const char *connected_account_id);
/* Renews this owner's leases and takes those that ran out (or were never
 * taken), until now + lease_ms; *out: the accounts this owner holds now. */
err store_provider_links_claim(store *s, arena *a, const char *owner, int64_t now,
                               int64_t lease_ms, store_connected_account **out, size_t *count);
/* Gives up this owner's leases (shutting down): others take them at once. */
err store_provider_links_release(store *s, const char *owner);

/* ---- access codes (access_codes.c) ---- */

typedef struct store_access_code {
    int64_t seq;
    const char *access_code_id;
    const char *workspace_id;
    const char *device_id;
    const char *connected_account_id; /* the device's, for scoping */
    const char *name;                 /* NULL when none */
    const char *code;
    const char *common_code_key;      /* NULL when none */
    int64_t starts_at;                /* both 0: an ongoing code */
    int64_t ends_at;
    bool is_managed;                  /* false: found on the lock (unmanaged) */
    bool is_external_modification_allowed;
    bool is_one_time_use;
    bool is_offline_access_code;
    bool use_backup_pool;
    bool is_backup;                   /* one of the device's spare codes */
    const char *pulled_backup_access_code_id;
    const char *status;               /* unset, setting, set, removing */
    bool on_device;                   /* the lock holds it now */
    bool deleting;                    /* to be removed from the lock, then deleted */
    int64_t due_at;                   /* when the scheduler looks at it next; 0: never */
    int64_t delayed_since;            /* the lock could not be reached since; 0 */
    const char *lease_owner;          /* the node working on it */
    int64_t lease_expires_at;
    int64_t created_at;
} store_access_code;

/* A code already on the device fails with type "duplicate_access_code"
 * (409), also when another node creates it at the same moment. */
err store_access_code_create(store *s, const store_access_code *ac);
typedef enum store_code_kind {
    STORE_CODE_MANAGED,
    STORE_CODE_UNMANAGED,
    STORE_CODE_ANY,
} store_code_kind;

/* By id, or by the device's code when id is NULL, within scope (NULL: any
 * workspace, for the scheduler). With for_update, inside a transaction,
 * the row stays locked. */
err store_access_code_get(store *s, arena *a, const store_scope *scope, const char *id,
                          const char *device_id, const char *code, store_code_kind kind,
                          bool for_update, store_access_code *out);

typedef struct store_access_code_filter {
    const str_list *access_code_ids; /* NULL: any */
    const char *device_id;           /* NULL: any */
    const char *common_code_key;     /* NULL: any */
    const char *customer_key;        /* its account's customer; NULL: any */
    const char *search;              /* in name and code; NULL: any */
    bool managed;                    /* managed codes, or else the unmanaged */
    bool backup;                     /* the device's spare codes too */
    bool none;                       /* match nothing (a filter on what latchkey lacks) */
} store_access_code_filter;

/* Codes on managed devices only (those of an unmanaged device are out of
 * sight, as the device is). */
err store_access_code_list(store *s, arena *a, const store_scope *scope,
                           const store_access_code_filter *f, const store_page *page,
                           store_access_code **out, size_t *count);
/* Writes every field but the ids, device and creation time of the code
 * read (in scope) earlier in the same transaction; a code already on the
 * device fails as create does. */
err store_access_code_write(store *s, const store_access_code *ac);
/* Deletes the row (removed from its lock). */
err store_access_code_remove(store *s, const char *access_code_id);
/* Codes on the device that are not being deleted, and of those the ones
 * the lock holds. */
err store_access_code_count(store *s, const char *device_id, int64_t *active, int64_t *on_device);
/* Claims up to `limit` codes that are due by now for owner (skipping those
 * another node works on), each this owner's until now + lease_ms. */
err store_access_code_claim(store *s, arena *a, const char *owner, int64_t now, int64_t lease_ms,
                            size_t limit, store_access_code **out, size_t *count);
/* When the next code becomes claimable; 0 when none will. */
err store_access_code_next_due(store *s, int64_t *next);
/* The device is back: its codes that wait for it are due at `now`. */
err store_access_codes_wake(store *s, const char *device_id, int64_t now);

/* ---- thermostats' climate (devices.c) and noise thresholds (noise_thresholds.c) ---- */

/* Replaces the device's type-specific properties (a serialized object) and
 * its climate_moved_at (0: at rest). */
err store_device_set_properties(store *s, const store_scope *scope, const char *device_id,
                             const char *extra_properties, int64_t climate_moved_at);
/* Up to `limit` thermostats of any workspace whose temperature last moved
 * at or before `moved_by` (the oldest first). */
err store_thermostats_due(store *s, arena *a, int64_t moved_by, size_t limit, store_device **out,
                          size_t *count);
/* The earliest climate_moved_at of any thermostat; 0 when all rest. */
err store_thermostats_first_moved(store *s, int64_t *first);

typedef struct store_noise_threshold {
    int64_t seq;
    const char *noise_threshold_id;
    const char *workspace_id;
    const char *device_id;
    const char *connected_account_id; /* its device's, for scoping */
    const char *name;
    const char *starts_daily_at;      /* "HH:MM:SS", or with "[Region/City]" */
    const char *ends_daily_at;
    double noise_threshold_decibels;
    double noise_threshold_nrs;       /* < 0 when none */
    int64_t created_at;
} store_noise_threshold;

err store_noise_threshold_create(store *s, const store_noise_threshold *nt);
/* Within the scope; with device_id (not NULL), only a threshold of that
 * device. With for_update, inside a transaction, the row stays locked
 * until it ends. */
err store_noise_threshold_get(store *s, arena *a, const store_scope *scope, const char *id,
                              const char *device_id, bool for_update, store_noise_threshold *out);
/* The device's thresholds within the scope, oldest first. */
err store_noise_threshold_list(store *s, arena *a, const store_scope *scope, const char *device_id,
                               store_noise_threshold **out, size_t *count);
/* Writes name, the times and the levels of nt (found by its id, within the
 * scope). */
err store_noise_threshold_update(store *s, const store_scope *scope,
                                 const store_noise_threshold *nt);
err store_noise_threshold_delete(store *s, const store_scope *scope, const char *id);

#endif
