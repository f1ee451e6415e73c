/* The store's contract (store/store.h), one table of tests run on each
 * backend: SQLite (a fresh database in a temporary directory) and, when
 * LATCHKEY_TEST_POSTGRES names a cluster of scripts/pg-test-cluster,
 * PostgreSQL (a fresh database in it). Each test has a workspace of its own
 * and another one whose rows it must never see. */
#include "backend_fixtures.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/timeutil.h"
#include "store/resource.h" /* db_execf: a raw ROLLBACK (rolled_back_batch) */
#include "store/store.h"

/* ---- backends: a fresh database per group, and raw SQL beside the store ---- */

typedef struct backend {
    bool postgres;
    char url[512];     /* what store_open is given */
    char dir[256];     /* sqlite: the temporary directory, and its database file */
    char path[320];
    pg_test_db pg;     /* postgres: this run's database */
    store *s;
} backend;

/* Runs sql on the group's database through a connection of its own. */
static int raw_exec(const backend *b, const char *sql)
{
    if (b->postgres)
        return pg_test_exec(b->url, sql);
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(b->path, &h, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_exec(h, sql, NULL, NULL, NULL)) != SQLITE_OK)
        fprintf(stderr, "test_store: %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    backend *b = *state;
    if (!b)
        return 0;
    store_close(b->s);
    b->s = NULL;
    if (b->postgres)
        return pg_test_db_drop(&b->pg);
    DIR *d = opendir(b->dir);
    char file[600];
    for (struct dirent *ent; d && (ent = readdir(d));) {
        snprintf(file, sizeof file, "%s/%s", b->dir, ent->d_name);
        if (ent->d_name[0] != '.')
            unlink(file);
    }
    if (d)
        closedir(d);
    return rmdir(b->dir);
}

static int open_backend(backend *b, void **state)
{
    err e = ERR_NONE;
    *state = b;
    print_message("[ BACKEND  ] %s\n", b->url);
    if ((b->s = store_open(b->url, &e)))
        return 0;
    fprintf(stderr, "test_store: store_open(%s): %s\n", b->url, e.message);
    group_teardown(state);
    *state = NULL;
    return -1;
}

static int sqlite_group_setup(void **state)
{
    static backend b;
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/lk-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b.dir))
        return -1;
    snprintf(b.path, sizeof b.path, "%s/store.db", b.dir);
    snprintf(b.url, sizeof b.url, "sqlite:%s", b.path);
    return open_backend(&b, state);
}

static int postgres_group_setup(void **state)
{
    static backend b = {.postgres = true};
    if (pg_test_db_create(&b.pg, "lk_store"))
        return -1;
    snprintf(b.url, sizeof b.url, "%s", b.pg.url);
    return open_backend(&b, state);
}

/* ---- assertions ---- */

#define LIST(...)                                                                          \
    ((str_list){(const char *const[]){__VA_ARGS__},                                       \
                COUNT_OF(((const char *const[]){__VA_ARGS__}))})
#define NO_IDS ((str_list){NULL, 0})

/* e is of this kind (and type, when not NULL); ERR_OK: a success. */
static void check_err(err e, err_kind kind, const char *type, const char *call, int line)
{
    if (kind == ERR_OK ? !err_failed(e)
                       : e.kind == kind && (!type || (e.type && strcmp(e.type, type) == 0)))
        return;
    fail_msg("line %d: %s gave kind %d %s (%s); expected kind %d %s", line, call, e.kind,
             e.type ? e.type : "-", e.message ? e.message : "-", kind, type ? type : "");
}
#define OK(call) check_err((call), ERR_OK, NULL, #call, __LINE__)
#define NOT_FOUND(call, type) check_err((call), ERR_NOT_FOUND, type, #call, __LINE__)
#define FAILS_WITH(call, kind, type) check_err((call), kind, type, #call, __LINE__)
/* A failure, which is not a not-found answer. */
#define FAILS(call)                                                                        \
    do {                                                                                   \
        err e_ = (call);                                                                   \
        if (!err_failed(e_) || store_not_found(e_))                                        \
            fail_msg("line %d: %s: kind %d, not a failure", __LINE__, #call, e_.kind);    \
    } while (0)

/* A field of a record, compared by assert_record: 's' text or NULL,
 * 'i' int64_t, 'b' bool, 'l' the tri-state locked, 'r' a level (< 0: none). */
typedef struct field {
    const char *name;
    char kind;
    size_t offset;
} field;
#define F(f, kind) {#f, kind, offsetof(RECORD, f)}

static void describe(const field *f, const void *record, char *out, size_t size)
{
    const char *p = (const char *)record + f->offset;
    switch (f->kind) {
    case 's': {
        const char *text = *(const char *const *)p;
        snprintf(out, size, "%s%s%s", text ? "'" : "", text ? text : "NULL", text ? "'" : "");
        break;
    }
    case 'i': snprintf(out, size, "%lld", (long long)*(const int64_t *)p); break;
    case 'b': snprintf(out, size, "%d", *(const bool *)p); break;
    case 'l': snprintf(out, size, "%d", *(const int *)p); break;
    default: snprintf(out, size, "%g", *(const double *)p < 0 ? -1 : *(const double *)p);
    }
}

static void assert_record_at(const void *got, const void *want, const field *fields, size_t n,
                             int line)
{
    for (size_t i = 0; i < n; i++) {
        char g[512], w[512];
        describe(&fields[i], got, g, sizeof g);
        describe(&fields[i], want, w, sizeof w);
        if (strcmp(g, w) != 0)
            fail_msg("line %d: %s is %s, want %s", line, fields[i].name, g, w);
    }
}
#define ASSERT_RECORD(got, want, fields)                                                   \
    assert_record_at(&(got), &(want), fields, COUNT_OF(fields), __LINE__)

#define RECORD store_workspace
static const field WORKSPACE[] = {F(workspace_id, 's'), F(name, 's'), F(company_name, 's'),
                                  F(is_sandbox, 'b'), F(publishable_key, 's'), F(created_at, 'i')};
#undef RECORD
#define RECORD store_client_session /* its own fields */
static const field SESSION[] = {
    F(client_session_id, 's'), F(workspace_id, 's'), F(user_identifier_key, 's'),
    F(token_sealed, 's'),      F(user_identity_id, 's'), F(customer_key, 's'),
    F(created_at, 'i'),        F(expires_at, 'i'),   F(revoked_at, 'i')};
#undef RECORD
#define RECORD store_connected_account
static const field ACCOUNT[] = {
    F(connected_account_id, 's'), F(workspace_id, 's'), F(provider, 's'),
    F(user_email, 's'),           F(provider_login, 's'), F(display_name, 's'),
    F(custom_metadata, 's'),      F(created_at, 'i')};
#undef RECORD
#define RECORD store_connect_webview
static const field WEBVIEW[] = {
    F(connect_webview_id, 's'), F(workspace_id, 's'), F(connected_account_id, 's'),
    F(status, 's'), F(auth_token_sealed, 's'), F(accepted_providers, 's'),
    F(custom_redirect_url, 's'), F(custom_redirect_failure_url, 's'), F(custom_metadata, 's'),
    F(device_selection_mode, 's'), F(selected_provider, 's'), F(login_successful, 'b'),
    F(failed_logins, 'i'), F(error, 's'), F(authorized_at, 'i'), F(created_at, 'i')};
#undef RECORD
#define RECORD store_user_identity
static const field IDENTITY[] = {F(user_identity_id, 's'), F(workspace_id, 's'),
                                 F(user_identity_key, 's'), F(email_address, 's'),
                                 F(phone_number, 's'), F(full_name, 's'), F(created_at, 'i')};
#undef RECORD
#define RECORD store_device
static const field DEVICE[] = {
    F(device_id, 's'), F(workspace_id, 's'), F(connected_account_id, 's'), F(device_type, 's'),
    F(manufacturer, 's'), F(name, 's'), F(nickname, 's'), F(model, 's'), F(online, 'b'),
    F(locked, 'l'), F(battery_level, 'r'), F(can_remotely_lock, 'b'),
    F(can_remotely_unlock, 'b'), F(provider_device_key, 's'), F(extra_properties, 's'),
    F(custom_metadata, 's'), F(created_at, 'i')};
#undef RECORD
#define RECORD store_action_attempt
static const field ATTEMPT[] = {
    F(action_attempt_id, 's'), F(workspace_id, 's'), F(device_id, 's'),
    F(connected_account_id, 's'), F(action_type, 's'), F(status, 's'), F(error_type, 's'),
    F(error_message, 's'), F(created_at, 'i'), F(due_at, 'i'), F(completed_at, 'i'),
    F(lease_owner, 's'), F(lease_expires_at, 'i')};
#undef RECORD
#define RECORD store_event
static const field EVENT[] = {
    F(event_id, 's'), F(workspace_id, 's'), F(event_type, 's'), F(device_id, 's'),
    F(connected_account_id, 's'), F(connect_webview_id, 's'), F(client_session_id, 's'),
    F(action_attempt_id, 's'), F(created_at, 'i')};
#undef RECORD

/* rows[0..n) are, in this order, the records with the ids of want. */
static void assert_ids_at(const void *rows, size_t n, size_t size, size_t offset, str_list want,
                          int line)
{
#define ID_AT(i) (*(const char *const *)((const char *)rows + (i) * size + offset))
    bool same = n == want.count;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(ID_AT(i), want.items[i]) == 0;
    if (same)
        return;
    for (size_t i = 0; i < n || i < want.count; i++)
        print_message("  %-36s  %s\n", i < n ? ID_AT(i) : "-",
                      i < want.count ? want.items[i] : "-");
    fail_msg("line %d: %zu rows (left), %zu wanted (right)", line, n, want.count);
#undef ID_AT
}
#define ASSERT_IDS(rows, n, field, want)                                                   \
    assert_ids_at((rows), (n), sizeof *(rows), offsetof(__typeof__(*(rows)), field), want,   \
                  __LINE__)

/* The same ids, in any order. */
static void assert_same_set(str_list got, str_list want)
{
    assert_int_equal(got.count, want.count);
    for (size_t i = 0; i < want.count; i++) {
        size_t j = 0;
        while (j < got.count && strcmp(got.items[j], want.items[i]) != 0)
            j++;
        if (j == got.count)
            fail_msg("%s missing", want.items[i]);
    }
}

/* ---- a test's fixture, and its rows, written once ---- */

typedef struct fx {
    backend *b;
    store *s;
    arena a;
    int64_t now;
    const char *ws;    /* the test's workspace */
    const char *other; /* another workspace: none of its rows may show in ws */
    store_scope all;   /* the whole of ws, as an API key sees it */
} fx;

enum { HOUR = 3600000 };
static const int64_t T0 = 1700000000000;            /* fixed times, for filters */
static const int64_t FAR_FUTURE = 1000000000000000; /* after any due time or lease */
static const store_page ALL = {0, 1000};
static const err TEST_FAILURE = {ERR_BAD_REQUEST, "test_failure", "The test's function failed."};

static const char *new_id(fx *f)
{
    char id[UUID_STR_LEN];
    uuid_v4(id);
    return arena_strdup(&f->a, id);
}

static const char *make_workspace(fx *f)
{
    store_workspace w = {new_id(f), "Test", "Test Co", false,
                         arena_sprintf(&f->a, "pk_%s", new_id(f)), f->now};
    OK(store_workspace_create(f->s, &w));
    return w.workspace_id;
}

static store_connected_account account_of(fx *f, const char *ws, const char *email)
{
    return (store_connected_account){.connected_account_id = new_id(f), .workspace_id = ws,
                                     .provider = "sandbox", .user_email = email,
                                     .created_at = f->now};
}

static const char *make_account(fx *f, const char *ws, const char *email, const char *metadata)
{
    store_connected_account ca = account_of(f, ws, email);
    ca.custom_metadata = metadata;
    OK(store_connected_account_create(f->s, &ca));
    return ca.connected_account_id;
}

static store_device device_of(fx *f, const char *ws, const char *account, const char *name)
{
    return (store_device){.device_id = new_id(f), .workspace_id = ws,
                          .connected_account_id = account, .device_type = "august_lock",
                          .manufacturer = "august", .name = name, .model = "Pro", .online = true,
                          .locked = 1, .battery_level = 0.5, .can_remotely_lock = true,
                          .can_remotely_unlock = true, .created_at = f->now};
}

static const char *make_device(fx *f, const char *ws, const char *account, const char *name)
{
    store_device d = device_of(f, ws, account, name);
    OK(store_device_create(f->s, &d));
    return d.device_id;
}

static const char *make_webview(fx *f, const char *ws, const char *metadata)
{
    store_connect_webview cw = {.connect_webview_id = new_id(f), .workspace_id = ws,
                                .status = "pending", .custom_metadata = metadata,
                                .created_at = f->now};
    OK(store_connect_webview_create(f->s, &cw));
    return cw.connect_webview_id;
}

static void authorize(fx *f, const char *ws, const char *webview, const char *account)
{
    store_connect_webview cw = {.connect_webview_id = webview, .workspace_id = ws,
                                .status = "authorized", .connected_account_id = account,
                                .selected_provider = "sandbox", .login_successful = true,
                                .authorized_at = f->now};
    OK(store_connect_webview_update(f->s, &cw));
}

static store_client_session session_of(fx *f, const char *ws, const char *user_key)
{
    return (store_client_session){.client_session_id = new_id(f), .workspace_id = ws,
                                  .user_identifier_key = user_key, .token_sealed = "sealed",
                                  .created_at = f->now, .expires_at = f->now + HOUR};
}

static const char *hash_of(fx *f, const store_client_session *cs)
{
    return arena_sprintf(&f->a, "hash-%s", cs->client_session_id);
}

static err create_session(fx *f, const store_client_session *cs, str_list accounts,
                          str_list webviews, const char *replaces_id)
{
    store_client_session_grants g = {accounts, webviews, NULL};
    return store_client_session_create(f->s, cs, hash_of(f, cs), &g, replaces_id);
}

static const char *make_session(fx *f, const char *ws, const char *user_key, str_list accounts,
                                str_list webviews)
{
    store_client_session cs = session_of(f, ws, user_key);
    OK(create_session(f, &cs, accounts, webviews, NULL));
    return cs.client_session_id;
}

static store_client_session get_session(fx *f, const char *id)
{
    store_client_session cs;
    OK(store_client_session_get(f->s, &f->a, f->ws, id, NULL, &cs));
    return cs;
}

static const char *make_identity(fx *f, const char *ws, const char *key)
{
    store_user_identity ui = {.user_identity_id = new_id(f), .workspace_id = ws,
                              .user_identity_key = key, .created_at = f->now};
    OK(store_user_identity_create(f->s, &ui));
    return ui.user_identity_id;
}

static const char *make_event(fx *f, const char *ws, const char *type, const char *device,
                              const char *account, const char *webview, int64_t at)
{
    store_event ev = {.event_id = new_id(f), .workspace_id = ws, .event_type = type,
                      .device_id = device, .connected_account_id = account,
                      .connect_webview_id = webview, .created_at = at};
    OK(store_event_add(f->s, &ev));
    return ev.event_id;
}

static store_action_attempt attempt_of(fx *f, const char *ws, const char *device,
                                       const char *account, const char *status, int64_t due)
{
    bool done = strcmp(status, "success") == 0 || strcmp(status, "error") == 0;
    return (store_action_attempt){.action_attempt_id = new_id(f), .workspace_id = ws,
                                  .device_id = device, .connected_account_id = account,
                                  .action_type = "UNLOCK_DOOR", .status = status,
                                  .created_at = f->now, .due_at = due,
                                  .completed_at = done ? due : 0};
}

static const char *make_attempt(fx *f, const char *device, const char *account,
                                const char *status, int64_t due)
{
    store_action_attempt aa = attempt_of(f, f->ws, device, account, status, due);
    OK(store_action_attempt_create(f->s, &aa));
    return aa.action_attempt_id;
}

/* Whole lists (one page of ALL) and single rows that must be there. */
static size_t accounts_in(fx *f, const store_scope *sc, const metadata_filter *m,
                          store_connected_account **rows)
{
    size_t n = 0;
    OK(store_connected_account_list(f->s, &f->a, sc, &(store_list_filter){.metadata = m}, &ALL, rows, &n));
    return n;
}

static size_t webviews_in(fx *f, const store_scope *sc, const metadata_filter *m,
                          store_connect_webview **rows)
{
    size_t n = 0;
    OK(store_connect_webview_list(f->s, &f->a, sc, &(store_list_filter){.metadata = m}, &ALL, rows, &n));
    return n;
}

static size_t devices_in(fx *f, const store_scope *sc, const store_device_filter *df,
                         store_device **rows)
{
    size_t n = 0;
    OK(store_device_list(f->s, &f->a, sc, df ? df : &(store_device_filter){0}, &ALL, rows, &n));
    return n;
}

static size_t events_in(fx *f, const store_scope *sc, const store_event_filter *ef,
                        store_event **rows)
{
    size_t n = 0;
    OK(store_event_list(f->s, &f->a, sc, ef ? ef : &(store_event_filter){0}, &ALL, rows, &n));
    return n;
}

static size_t events_of_type(fx *f, const char *type)
{
    store_event *rows;
    return events_in(f, &f->all, &(store_event_filter){.event_types = &LIST(type)}, &rows);
}

static size_t attempts_in(fx *f, const store_scope *sc, const str_list *ids, const char *device,
                          store_action_attempt **rows)
{
    size_t n = 0;
    OK(store_action_attempt_list(f->s, &f->a, sc, ids, device, &ALL, rows, &n));
    return n;
}

static store_device get_device(fx *f, const char *id)
{
    store_device d;
    OK(store_device_get(f->s, &f->a, &f->all, id, NULL, false, &d));
    return d;
}

static store_connect_webview get_webview(fx *f, const char *id)
{
    store_connect_webview cw;
    OK(store_connect_webview_get(f->s, &f->a, &f->all, id, &cw));
    return cw;
}

static store_action_attempt get_attempt(fx *f, const char *id)
{
    store_action_attempt aa;
    OK(store_action_attempt_get(f->s, &f->a, &f->all, id, &aa));
    return aa;
}

static bool account_exists(fx *f, const char *id)
{
    store_connected_account ca;
    err e = store_connected_account_get(f->s, &f->a, &f->all, id, NULL, false, &ca);
    if (err_failed(e) && !store_not_found(e))
        fail_msg("%s", e.message);
    return !err_failed(e);
}

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->b = *state;
    f->s = f->b->s;
    arena_init(&f->a);
    f->now = time_now_ms();
    *state = f;
    f->ws = make_workspace(f);
    f->other = make_workspace(f);
    f->all = (store_scope){.workspace_id = f->ws};
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    arena_free(&f->a);
    free(f);
    return 0;
}

/* ---- workspaces and API keys ---- */

static void workspaces_and_api_keys(void **state)
{
    fx *f = *state;
    int64_t before = 0, after = 0;
    OK(store_workspace_count(f->s, &before));
    store_workspace w = {new_id(f), "Acme", "Acme Inc", true, "pk_acme", T0}, got;
    OK(store_workspace_create(f->s, &w));
    OK(store_workspace_count(f->s, &after));
    assert_int_equal(after, before + 1);
    OK(store_workspace_get(f->s, &f->a, w.workspace_id, &got));
    ASSERT_RECORD(got, w, WORKSPACE);
    OK(store_workspace_by_publishable_key(f->s, &f->a, "pk_acme", &got));
    ASSERT_RECORD(got, w, WORKSPACE);
    OK(store_workspace_get(f->s, &f->a, f->ws, &got));
    assert_false(got.is_sandbox);
    NOT_FOUND(store_workspace_get(f->s, &f->a, new_id(f), &got), "workspace_not_found");
    NOT_FOUND(store_workspace_by_publishable_key(f->s, &f->a, "pk_no", &got),
              "workspace_not_found");
    w.workspace_id = new_id(f); /* the publishable key is taken */
    FAILS(store_workspace_create(f->s, &w));

    const char *hash = arena_sprintf(&f->a, "key-%s", new_id(f)), *ws = NULL;
    OK(store_api_key_create(f->s, new_id(f), f->ws, "ci", hash, f->now));
    OK(store_api_key_lookup(f->s, &f->a, hash, &ws));
    assert_string_equal(ws, f->ws);
    NOT_FOUND(store_api_key_lookup(f->s, &f->a, "key-none", &ws), "api_key_not_found");
    assert_null(ws);
    FAILS(store_api_key_create(f->s, new_id(f), f->ws, "again", hash, f->now));
}

/* ---- client sessions ---- */

static void client_session_round_trip(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *acc2 = make_account(f, f->ws, "b@example.com", NULL);
    const char *unheld = make_account(f, f->ws, "c@example.com", NULL);
    const char *wv = make_webview(f, f->ws, NULL);
    authorize(f, f->ws, wv, acc2);
    make_device(f, f->ws, acc, "A1");
    make_device(f, f->ws, acc, "A2");
    make_device(f, f->ws, acc2, "B1");
    make_device(f, f->ws, unheld, "C1");
    store_client_session cs = session_of(f, f->ws, "user-1"), got[3];
    cs.user_identity_id = make_identity(f, f->ws, "identity-1");
    cs.customer_key = "customer-1";
    OK(create_session(f, &cs, LIST(acc), LIST(wv), NULL));
    OK(store_client_session_get(f->s, &f->a, f->ws, cs.client_session_id, NULL, &got[0]));
    OK(store_client_session_get(f->s, &f->a, f->ws, NULL, "user-1", &got[1]));
    OK(store_client_session_by_token_hash(f->s, &f->a, hash_of(f, &cs), &got[2]));
    for (int i = 0; i < 3; i++) {
        ASSERT_RECORD(got[i], cs, SESSION);
        assert_true(got[i].seq > 0);
    }
    for (int i = 0; i < 2; i++) { /* held directly, and through the webview */
        assert_same_set(got[i].connected_account_ids, LIST(acc, acc2));
        assert_same_set(got[i].connect_webview_ids, LIST(wv));
        assert_int_equal(got[i].device_count, 3);
    }
    /* by token: the session's own fields only */
    assert_int_equal(got[2].connected_account_ids.count + got[2].connect_webview_ids.count, 0);
    assert_int_equal(got[2].device_count, 0);

    store_client_session bare = session_of(f, f->ws, NULL), b;
    OK(create_session(f, &bare, NO_IDS, NO_IDS, NULL));
    b = get_session(f, bare.client_session_id);
    ASSERT_RECORD(b, bare, SESSION);
    assert_int_equal(b.device_count, 0);
    assert_true(b.seq > got[0].seq);
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->ws, NULL, NULL, &b),
              "client_session_not_found");
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->other, cs.client_session_id, NULL, &b),
              "client_session_not_found");
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->other, NULL, "user-1", &b),
              "client_session_not_found");
    NOT_FOUND(store_client_session_by_token_hash(f->s, &f->a, "hash-none", &b),
              "client_session_not_found");
}

static void client_session_list(void **state)
{
    fx *f = *state;
    const char *wv = make_webview(f, f->ws, NULL), *ui = make_identity(f, f->ws, "k");
    const char *s1 = make_session(f, f->ws, "u1", NO_IDS, LIST(wv));
    store_client_session cs2 = session_of(f, f->ws, NULL);
    cs2.user_identity_id = ui;
    OK(create_session(f, &cs2, NO_IDS, NO_IDS, NULL));
    const char *s2 = cs2.client_session_id, *s3 = make_session(f, f->ws, "u3", NO_IDS, NO_IDS);
    make_session(f, f->other, "u1", NO_IDS, NO_IDS);
    const struct {
        store_client_session_filter filter;
        str_list want;
    } cases[] = {
        {{0}, LIST(s1, s2, s3)},
        {{.client_session_id = s2}, LIST(s2)},
        {{.user_identifier_key = "u3"}, LIST(s3)},
        {{.user_identifier_key = "nobody"}, NO_IDS},
        {{.connect_webview_id = wv}, LIST(s1)},
        {{.user_identity_id = ui}, LIST(s2)},
        {{.without_user_identifier_key = true}, LIST(s2)},
    };
    store_client_session *rows;
    size_t n;
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        OK(store_client_session_list(f->s, &f->a, f->ws, &cases[i].filter, NULL, &rows, &n));
        ASSERT_IDS(rows, n, client_session_id, cases[i].want);
    }
    OK(store_client_session_list(f->s, &f->a, f->ws, &cases[0].filter, &(store_page){0, 2}, &rows,
                                 &n));
    ASSERT_IDS(rows, n, client_session_id, LIST(s1, s2));
    assert_same_set(rows[0].connect_webview_ids, LIST(wv));
    store_page next = {rows[1].seq, 2};
    OK(store_client_session_list(f->s, &f->a, f->ws, &cases[0].filter, &next, &rows, &n));
    ASSERT_IDS(rows, n, client_session_id, LIST(s3));
}

static void client_session_grant_revoke_delete(void **state)
{
    fx *f = *state;
    const char *a1 = make_account(f, f->ws, "1@example.com", NULL);
    const char *a2 = make_account(f, f->ws, "2@example.com", NULL);
    const char *a3 = make_account(f, f->ws, "3@example.com", NULL);
    const char *wv = make_webview(f, f->ws, NULL), *ui = make_identity(f, f->ws, "k");
    const char *s = make_session(f, f->ws, "u", NO_IDS, NO_IDS);
    const int64_t expires = get_session(f, s).expires_at;
    store_client_session_grants g = {LIST(a1), LIST(wv), ui};
    OK(store_client_session_grant(f->s, f->ws, s, &g, 0));
    store_client_session cs = get_session(f, s);
    assert_same_set(cs.connected_account_ids, LIST(a1));
    assert_same_set(cs.connect_webview_ids, LIST(wv));
    assert_string_equal(cs.user_identity_id, ui);
    assert_int_equal(cs.expires_at, expires); /* 0 leaves it */
    g = (store_client_session_grants){LIST(a1, a2), NO_IDS, NULL};
    OK(store_client_session_grant(f->s, f->ws, s, &g, expires + 5));
    cs = get_session(f, s);
    assert_same_set(cs.connected_account_ids, LIST(a1, a2));
    assert_string_equal(cs.user_identity_id, ui); /* NULL leaves it */
    assert_int_equal(cs.expires_at, expires + 5);
    g = (store_client_session_grants){LIST(a3), NO_IDS, NULL};
    NOT_FOUND(store_client_session_grant(f->s, f->other, s, &g, 0), "client_session_not_found");
    NOT_FOUND(store_client_session_grant(f->s, f->ws, new_id(f), &g, 0),
              "client_session_not_found");
    assert_same_set(get_session(f, s).connected_account_ids, LIST(a1, a2));

    OK(store_client_session_revoke(f->s, f->ws, s, T0));
    OK(store_client_session_revoke(f->s, f->ws, s, T0 + 1)); /* the first time stays */
    assert_int_equal(get_session(f, s).revoked_at, T0);
    NOT_FOUND(store_client_session_revoke(f->s, f->other, s, T0), "client_session_not_found");
    NOT_FOUND(store_client_session_revoke(f->s, f->ws, new_id(f), T0), "client_session_not_found");

    store_event ev = {.workspace_id = f->ws, .event_type = "client_session.deleted",
                      .client_session_id = s};
    NOT_FOUND(store_client_session_delete(f->s, f->other, s, &ev), "client_session_not_found");
    OK(store_client_session_delete(f->s, f->ws, s, &ev));
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->ws, s, NULL, &cs),
              "client_session_not_found");
    NOT_FOUND(store_client_session_delete(f->s, f->ws, s, &ev), "client_session_not_found");
    assert_int_equal(events_of_type(f, "client_session.deleted"), 1);
    s = make_session(f, f->ws, NULL, NO_IDS, NO_IDS);
    OK(store_client_session_delete(f->s, f->ws, s, NULL)); /* no event */
}

static void client_session_one_per_user(void **state)
{
    fx *f = *state;
    const char *a1 = make_account(f, f->ws, "1@example.com", NULL);
    const char *a2 = make_account(f, f->ws, "2@example.com", NULL);
    const char *first = make_session(f, f->ws, "alice", LIST(a1), NO_IDS);
    store_client_session second = session_of(f, f->ws, "alice"), cs;
    FAILS_WITH(create_session(f, &second, LIST(a2), NO_IDS, NULL), ERR_BAD_REQUEST,
               "client_session_token_already_exists");
    OK(store_client_session_get(f->s, &f->a, f->ws, NULL, "alice", &cs));
    assert_string_equal(cs.client_session_id, first);
    assert_same_set(cs.connected_account_ids, LIST(a1));
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->ws, second.client_session_id, NULL, &cs),
              "client_session_not_found");
    make_session(f, f->other, "alice", NO_IDS, NO_IDS); /* another workspace: another user */

    /* replaces_id: the old session's grants pass to the new one, and it goes */
    const char *wv = make_webview(f, f->ws, NULL);
    store_client_session old = session_of(f, f->ws, "bob");
    old.user_identity_id = make_identity(f, f->ws, "k");
    OK(create_session(f, &old, LIST(a1), LIST(wv), NULL));
    store_client_session fresh = session_of(f, f->ws, "bob");
    OK(create_session(f, &fresh, LIST(a2), NO_IDS, old.client_session_id));
    NOT_FOUND(store_client_session_get(f->s, &f->a, f->ws, old.client_session_id, NULL, &cs),
              "client_session_not_found");
    OK(store_client_session_get(f->s, &f->a, f->ws, NULL, "bob", &cs));
    assert_string_equal(cs.client_session_id, fresh.client_session_id);
    assert_same_set(cs.connected_account_ids, LIST(a1, a2));
    assert_same_set(cs.connect_webview_ids, LIST(wv));
    assert_string_equal(cs.user_identity_id, old.user_identity_id);
}

static void first_missing(void **state)
{
    fx *f = *state;
    const char *ids[] = {make_account(f, f->ws, "a@example.com", NULL),
                         make_webview(f, f->ws, NULL), make_identity(f, f->ws, "k")};
    const char *theirs[] = {make_account(f, f->other, "a@example.com", NULL),
                            make_webview(f, f->other, NULL), make_identity(f, f->other, "k")};
    const store_kind kinds[] = {STORE_CONNECTED_ACCOUNT, STORE_CONNECT_WEBVIEW,
                                STORE_USER_IDENTITY};
    for (size_t k = 0; k < COUNT_OF(kinds); k++) {
        long missing = 0;
        OK(store_first_missing(f->s, kinds[k], f->ws, &LIST(ids[k], ids[k]), &missing));
        assert_int_equal(missing, -1);
        OK(store_first_missing(f->s, kinds[k], f->ws, &LIST(ids[k], new_id(f), ids[k]), &missing));
        assert_int_equal(missing, 1);
        OK(store_first_missing(f->s, kinds[k], f->ws, &LIST(theirs[k]), &missing));
        assert_int_equal(missing, 0);
        OK(store_first_missing(f->s, kinds[k], f->ws, &NO_IDS, &missing));
        assert_int_equal(missing, -1);
    }
}

/* ---- connected accounts ---- */

static err get_account_for_update(store *s, void *ctx)
{
    fx *f = ctx;
    store_connected_account ca;
    return store_connected_account_get(s, &f->a, &f->all, NULL, "jane@example.com", true, &ca);
}

static void connected_account_round_trip(void **state)
{
    fx *f = *state;
    store_connected_account full = {0, new_id(f), f->ws, "sandbox_august", "jane@example.com",
                                    "jane", "Jane's", "{\"a\":\"b\"}", T0};
    store_connected_account bare = {.connected_account_id = new_id(f), .workspace_id = f->ws,
                                    .provider = "sandbox", .created_at = T0 + 1};
    OK(store_connected_account_create(f->s, &full));
    OK(store_connected_account_create(f->s, &bare));
    make_account(f, f->ws, "jane@example.com", NULL); /* a later one with the same email */
    store_connected_account got[3];
    OK(store_connected_account_get(f->s, &f->a, &f->all, full.connected_account_id, NULL, false,
                                   &got[0]));
    OK(store_connected_account_get(f->s, &f->a, &f->all, NULL, "jane@example.com", false, &got[1]));
    OK(store_connected_account_get(f->s, &f->a, &f->all, bare.connected_account_id, NULL, false,
                                   &got[2]));
    ASSERT_RECORD(got[0], full, ACCOUNT);
    ASSERT_RECORD(got[1], full, ACCOUNT);
    ASSERT_RECORD(got[2], bare, ACCOUNT);
    assert_true(got[0].seq > 0 && got[2].seq > got[0].seq);
    OK(store_transaction(f->s, get_account_for_update, f));
    NOT_FOUND(store_connected_account_get(f->s, &f->a, &f->all, NULL, NULL, false, &got[0]),
              "connected_account_not_found");
    NOT_FOUND(store_connected_account_get(f->s, &f->a, &f->all, new_id(f), NULL, false, &got[0]),
              "connected_account_not_found");
    FAILS(store_connected_account_create(f->s, &full)); /* its id is taken */
    full.connected_account_id = new_id(f);             /* its login is taken */
    FAILS(store_connected_account_create(f->s, &full));
}

static void connected_account_connect(void **state)
{
    fx *f = *state;
    store_connected_account first = account_of(f, f->ws, "jane@example.com");
    first.provider_login = "jane";
    first.display_name = "Jane";
    const char *proposed = first.connected_account_id;
    bool created = false;
    OK(store_connected_account_connect(f->s, &f->a, &first, &created));
    assert_true(created);
    assert_string_equal(first.connected_account_id, proposed);
    store_connected_account again = account_of(f, f->ws, "other@example.com");
    again.provider_login = "jane";
    again.created_at = T0;
    OK(store_connected_account_connect(f->s, &f->a, &again, &created));
    assert_false(created); /* that account, as it is */
    ASSERT_RECORD(again, first, ACCOUNT);
    /* another provider, another workspace, or no login: another account */
    store_connected_account others[] = {account_of(f, f->ws, "j@example.com"),
                                        account_of(f, f->other, "j@example.com"),
                                        account_of(f, f->ws, "x@example.com"),
                                        account_of(f, f->ws, "x@example.com")};
    others[0].provider = "sandbox_yale";
    others[0].provider_login = others[1].provider_login = "jane";
    for (size_t i = 0; i < COUNT_OF(others); i++) {
        OK(store_connected_account_connect(f->s, &f->a, &others[i], &created));
        assert_true(created);
    }
    store_connected_account *rows;
    assert_int_equal(accounts_in(f, &f->all, NULL, &rows), 4);
}

static void connected_account_update_delete(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door"), *wv = make_webview(f, f->ws, NULL);
    authorize(f, f->ws, wv, acc);
    const char *s = make_session(f, f->ws, "u", LIST(acc), NO_IDS);
    store_connected_account ca;
    OK(store_connected_account_update(f->s, &f->all, acc, "Front desk", NULL, NULL));
    OK(store_connected_account_update(f->s, &f->all, acc, NULL, "{\"k\":\"v\"}", NULL));
    OK(store_connected_account_get(f->s, &f->a, &f->all, acc, NULL, false, &ca));
    assert_string_equal(ca.display_name, "Front desk");
    assert_string_equal(ca.custom_metadata, "{\"k\":\"v\"}");
    NOT_FOUND(store_connected_account_update(f->s, &f->all, new_id(f), "x", NULL, NULL),
              "connected_account_not_found");
    /* the account, its devices and grants go; the webview forgets it; one event */
    store_event ev = {.workspace_id = f->ws, .event_type = "connected_account.deleted",
                      .connected_account_id = acc};
    OK(store_connected_account_delete(f->s, &f->all, acc, &ev));
    assert_false(account_exists(f, acc));
    store_device d;
    NOT_FOUND(store_device_get(f->s, &f->a, &f->all, dev, NULL, false, &d), "device_not_found");
    assert_int_equal(get_session(f, s).connected_account_ids.count, 0);
    assert_null(get_webview(f, wv).connected_account_id);
    NOT_FOUND(store_connected_account_delete(f->s, &f->all, acc, &ev),
              "connected_account_not_found");
    assert_int_equal(events_of_type(f, "connected_account.deleted"), 1);
}

static void connected_account_list(void **state)
{
    fx *f = *state;
    const char *a1 = make_account(f, f->ws, "m@example.com",
                                  "{\"team\":\"ops\",\"vip\":true,\"a.b c\":\"x\"}");
    const char *a2 = make_account(f, f->ws, "m@example.com", "{\"team\":\"ops\",\"vip\":\"true\"}");
    const char *a3 = make_account(f, f->ws, "m@example.com", NULL);
    const char *a4 = make_account(f, f->ws, "m@example.com", "{\"team\":\"dev\",\"vip\":false}");
    make_account(f, f->other, "m@example.com", "{\"team\":\"ops\"}");
    store_connected_account *rows;
    size_t n = accounts_in(f, &f->all, NULL, &rows);
    ASSERT_IDS(rows, n, connected_account_id, LIST(a1, a2, a3, a4));
    OK(store_connected_account_list(f->s, &f->a, &f->all, NULL, &(store_page){0, 2}, &rows, &n));
    ASSERT_IDS(rows, n, connected_account_id, LIST(a1, a2));
    store_page next = {rows[1].seq, 5};
    OK(store_connected_account_list(f->s, &f->a, &f->all, NULL, &next, &rows, &n));
    ASSERT_IDS(rows, n, connected_account_id, LIST(a3, a4));

    const metadata_match ops = {"team", false, false, "ops"}, vip = {"vip", true, true, NULL},
                         vip_text = {"vip", false, false, "true"},
                         not_vip = {"vip", true, false, NULL},
                         dotted = {"a.b c", false, false, "x"},
                         missing = {"nothing", false, false, "ops"};
    const struct {
        metadata_filter m;
        str_list want;
    } cases[] = {
        {{&ops, 1}, LIST(a1, a2)},
        {{&vip, 1}, LIST(a1)},
        {{&vip_text, 1}, LIST(a2)},
        {{&not_vip, 1}, LIST(a4)},
        {{&dotted, 1}, LIST(a1)},
        {{&missing, 1}, NO_IDS},
        {{(const metadata_match[]){ops, vip}, 2}, LIST(a1)},
        {{(const metadata_match[]){ops, not_vip}, 2}, NO_IDS},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        n = accounts_in(f, &f->all, &cases[i].m, &rows);
        ASSERT_IDS(rows, n, connected_account_id, cases[i].want);
    }
}

/* ---- connect webviews ---- */

static void connect_webview_round_trip(void **state)
{
    fx *f = *state;
    store_connect_webview full = {
        .connect_webview_id = new_id(f), .workspace_id = f->ws, .status = "pending",
        .auth_token_sealed = "sealed", .accepted_providers = "august,yale",
        .custom_redirect_url = "https://app.example/ok",
        .custom_redirect_failure_url = "https://app.example/failed",
        .custom_metadata = "{\"flow\":\"a\"}", .device_selection_mode = "single", .created_at = T0};
    store_connect_webview bare = {.connect_webview_id = new_id(f), .workspace_id = f->ws,
                                  .status = "pending", .created_at = T0 + 1};
    OK(store_connect_webview_create(f->s, &full));
    OK(store_connect_webview_create(f->s, &bare));
    store_connect_webview got = get_webview(f, full.connect_webview_id), got2;
    ASSERT_RECORD(got, full, WEBVIEW);
    OK(store_connect_webview_for_page(f->s, &f->a, full.connect_webview_id, &got2));
    ASSERT_RECORD(got2, full, WEBVIEW);
    bare.accepted_providers = ""; /* what NULL is stored as */
    bare.device_selection_mode = "none";
    got2 = get_webview(f, bare.connect_webview_id);
    ASSERT_RECORD(got2, bare, WEBVIEW);
    assert_true(got.seq > 0 && got2.seq > got.seq);
    store_scope theirs = {.workspace_id = f->other};
    NOT_FOUND(store_connect_webview_get(f->s, &f->a, &theirs, full.connect_webview_id, &got),
              "connect_webview_not_found");
    NOT_FOUND(store_connect_webview_get(f->s, &f->a, &f->all, new_id(f), &got),
              "connect_webview_not_found");
    NOT_FOUND(store_connect_webview_for_page(f->s, &f->a, new_id(f), &got),
              "connect_webview_not_found");
}

static void connect_webview_ends_once(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *wv = make_webview(f, f->ws, NULL);
    store_connect_webview want = get_webview(f, wv), got;
    int64_t count = 0;
    for (int64_t i = 1; i <= 3; i++) {
        OK(store_connect_webview_failed_login(f->s, f->ws, wv, &count));
        assert_int_equal(count, i);
    }
    want.failed_logins = 3;
    NOT_FOUND(store_connect_webview_failed_login(f->s, f->other, wv, &count),
              "connect_webview_not_found");
    NOT_FOUND(store_connect_webview_failed_login(f->s, f->ws, new_id(f), &count),
              "connect_webview_not_found");
    store_connect_webview done = {.connect_webview_id = wv, .workspace_id = f->other,
                                  .status = "authorized", .connected_account_id = acc,
                                  .selected_provider = "august", .login_successful = true,
                                  .authorized_at = T0};
    NOT_FOUND(store_connect_webview_update(f->s, &done), "connect_webview_not_found");
    got = get_webview(f, wv);
    ASSERT_RECORD(got, want, WEBVIEW);
    done.workspace_id = f->ws;
    OK(store_connect_webview_update(f->s, &done));
    want.status = "authorized";
    want.connected_account_id = acc;
    want.selected_provider = "august";
    want.login_successful = true;
    want.authorized_at = T0;
    got = get_webview(f, wv);
    ASSERT_RECORD(got, want, WEBVIEW);
    /* ended: another tab's outcome, or sign-in, finds nothing and changes nothing */
    store_connect_webview late = {.connect_webview_id = wv, .workspace_id = f->ws,
                                  .status = "failed", .error = "user_cancelled"};
    NOT_FOUND(store_connect_webview_update(f->s, &late), "connect_webview_not_found");
    NOT_FOUND(store_connect_webview_failed_login(f->s, f->ws, wv, &count),
              "connect_webview_not_found");
    got = get_webview(f, wv);
    ASSERT_RECORD(got, want, WEBVIEW);
    /* a failure: an error, no time */
    late.connect_webview_id = make_webview(f, f->ws, NULL);
    OK(store_connect_webview_update(f->s, &late));
    got = get_webview(f, late.connect_webview_id);
    assert_string_equal(got.status, "failed");
    assert_string_equal(got.error, "user_cancelled");
    assert_true(!got.connected_account_id && !got.login_successful && !got.authorized_at);
}

static void connect_webview_list_delete(void **state)
{
    fx *f = *state;
    const char *w1 = make_webview(f, f->ws, "{\"flow\":\"a\"}");
    const char *w2 = make_webview(f, f->ws, "{\"flow\":\"b\"}");
    const char *w3 = make_webview(f, f->ws, NULL);
    const char *theirs = make_webview(f, f->other, "{\"flow\":\"a\"}");
    const char *s = make_session(f, f->ws, "u", NO_IDS, LIST(w1));
    store_connect_webview *rows, cw;
    size_t n = webviews_in(f, &f->all, NULL, &rows);
    ASSERT_IDS(rows, n, connect_webview_id, LIST(w1, w2, w3));
    store_page next = {rows[0].seq, 1};
    OK(store_connect_webview_list(f->s, &f->a, &f->all, NULL, &next, &rows, &n));
    ASSERT_IDS(rows, n, connect_webview_id, LIST(w2));
    const metadata_match flow_a = {"flow", false, false, "a"};
    n = webviews_in(f, &f->all, &(metadata_filter){&flow_a, 1}, &rows);
    ASSERT_IDS(rows, n, connect_webview_id, LIST(w1));
    OK(store_connect_webview_delete(f->s, &f->all, w1));
    NOT_FOUND(store_connect_webview_get(f->s, &f->a, &f->all, w1, &cw),
              "connect_webview_not_found");
    assert_int_equal(get_session(f, s).connect_webview_ids.count, 0);
    NOT_FOUND(store_connect_webview_delete(f->s, &f->all, w1), "connect_webview_not_found");
    NOT_FOUND(store_connect_webview_delete(f->s, &f->all, theirs), "connect_webview_not_found");
    OK(store_connect_webview_for_page(f->s, &f->a, theirs, &cw));
}

/* ---- user identities ---- */

static void user_identity_round_trip(void **state)
{
    fx *f = *state;
    store_user_identity full = {0, new_id(f), f->ws, "jane-1", "jane@example.com", "+15550100",
                                "Jane Doe", T0};
    store_user_identity bare = {.user_identity_id = new_id(f), .workspace_id = f->ws,
                                .created_at = T0 + 1};
    store_user_identity got[3], x;
    OK(store_user_identity_create(f->s, &full));
    OK(store_user_identity_create(f->s, &bare));
    OK(store_user_identity_get(f->s, &f->a, f->ws, full.user_identity_id, NULL, &got[0]));
    OK(store_user_identity_get(f->s, &f->a, f->ws, NULL, "jane-1", &got[1]));
    OK(store_user_identity_get(f->s, &f->a, f->ws, bare.user_identity_id, NULL, &got[2]));
    ASSERT_RECORD(got[0], full, IDENTITY);
    ASSERT_RECORD(got[1], full, IDENTITY);
    ASSERT_RECORD(got[2], bare, IDENTITY);
    assert_true(got[0].seq > 0 && got[2].seq > got[0].seq);
    bare.user_identity_id = new_id(f); /* a second identity without a key: no conflict */
    OK(store_user_identity_create(f->s, &bare));
    NOT_FOUND(store_user_identity_get(f->s, &f->a, f->ws, NULL, NULL, &x),
              "user_identity_not_found");
    NOT_FOUND(store_user_identity_get(f->s, &f->a, f->other, full.user_identity_id, NULL, &x),
              "user_identity_not_found");

    /* user_identity_key is unique in a workspace, on create and update */
    full.user_identity_id = new_id(f);
    FAILS_WITH(store_user_identity_create(f->s, &full), ERR_BAD_REQUEST,
               "user_identity_key_already_exists");
    store_user_identity upd = {.user_identity_id = bare.user_identity_id, .workspace_id = f->ws,
                               .user_identity_key = "jane-1", .full_name = "Me"};
    FAILS_WITH(store_user_identity_update(f->s, &upd), ERR_BAD_REQUEST,
               "user_identity_key_already_exists");
    OK(store_user_identity_get(f->s, &f->a, f->ws, bare.user_identity_id, NULL, &x));
    ASSERT_RECORD(x, bare, IDENTITY);
    make_identity(f, f->other, "jane-1"); /* keys are per workspace */
    /* an update writes each field, NULLs too */
    upd = (store_user_identity){0, got[0].user_identity_id, f->ws, "jane-2", NULL, "+1", NULL, T0};
    OK(store_user_identity_update(f->s, &upd));
    OK(store_user_identity_get(f->s, &f->a, f->ws, upd.user_identity_id, NULL, &x));
    ASSERT_RECORD(x, upd, IDENTITY);
    upd.workspace_id = f->other;
    NOT_FOUND(store_user_identity_update(f->s, &upd), "user_identity_not_found");
}

static void user_identity_list_delete(void **state)
{
    fx *f = *state;
    store_user_identity in[] = {
        {0, new_id(f), f->ws, "Alice_1", "alice%x@example.com", NULL, "Alice A", T0 + 1},
        {0, new_id(f), f->ws, "bob2", "bob@example.com", "+1 555", "Bob B", T0 + 2},
        {0, new_id(f), f->ws, "carol3", NULL, NULL, "Carol Alison", T0 + 3},
    };
    for (size_t i = 0; i < COUNT_OF(in); i++)
        OK(store_user_identity_create(f->s, &in[i]));
    const char *alice = in[0].user_identity_id, *bob = in[1].user_identity_id,
               *carol = in[2].user_identity_id, *theirs = make_identity(f, f->other, "Alice_9");
    const struct {
        store_user_identity_filter filter;
        str_list want;
    } cases[] = {
        {{0}, LIST(alice, bob, carol)},
        {{.ids = &LIST(carol, alice, theirs)}, LIST(alice, carol)},
        {{.ids = &NO_IDS}, NO_IDS},
        {{.search = "ALI"}, LIST(alice, carol)},
        {{.search = "_"}, LIST(alice)},
        {{.search = "%"}, LIST(alice)},
        {{.search = "E%X@"}, LIST(alice)},
        {{.search = "a_ice"}, NO_IDS},
        {{.search = "%b"}, NO_IDS},
        {{.search = "555"}, LIST(bob)},
        {{.created_before = T0 + 3}, LIST(alice, bob)},
        {{.search = "b", .created_before = T0 + 3}, LIST(bob)},
    };
    store_user_identity *rows;
    size_t n;
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        OK(store_user_identity_list(f->s, &f->a, f->ws, &cases[i].filter, &ALL, &rows, &n));
        ASSERT_IDS(rows, n, user_identity_id, cases[i].want);
    }
    OK(store_user_identity_list(f->s, &f->a, f->ws, &cases[0].filter, &(store_page){0, 2}, &rows,
                                &n));
    ASSERT_IDS(rows, n, user_identity_id, LIST(alice, bob));
    store_page next = {rows[1].seq, 2};
    OK(store_user_identity_list(f->s, &f->a, f->ws, &cases[0].filter, &next, &rows, &n));
    ASSERT_IDS(rows, n, user_identity_id, LIST(carol));
    /* deleted: gone, and a session that named it names none */
    store_client_session cs = session_of(f, f->ws, "u");
    cs.user_identity_id = bob;
    OK(create_session(f, &cs, NO_IDS, NO_IDS, NULL));
    NOT_FOUND(store_user_identity_delete(f->s, f->other, bob), "user_identity_not_found");
    OK(store_user_identity_delete(f->s, f->ws, bob));
    NOT_FOUND(store_user_identity_get(f->s, &f->a, f->ws, bob, NULL, &in[0]),
              "user_identity_not_found");
    NOT_FOUND(store_user_identity_delete(f->s, f->ws, bob), "user_identity_not_found");
    assert_null(get_session(f, cs.client_session_id).user_identity_id);
}

/* ---- devices ---- */

static err get_device_for_update(store *s, void *ctx)
{
    fx *f = ctx;
    store_device d;
    return store_device_get(s, &f->a, &f->all, NULL, "Front Door", true, &d);
}

static void device_round_trip(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    store_device full = device_of(f, f->ws, acc, "Front Door");
    full.nickname = "Entrance";
    full.battery_level = 0.75;
    full.provider_device_key = "pk-1";
    full.extra_properties = "{\"x\":1}";
    full.custom_metadata = "{\"m\":\"v\"}";
    store_device bare = {.device_id = new_id(f), .workspace_id = f->ws, .connected_account_id = acc,
                         .device_type = "ecobee_thermostat", .name = "Hall", .locked = -1,
                         .battery_level = -1, .created_at = T0};
    store_device zero = device_of(f, f->ws, acc, "Back");
    zero.locked = 0;
    zero.battery_level = 0.0; /* a value, not unknown */
    zero.can_remotely_lock = false;
    const store_device *in[] = {&full, &bare, &zero};
    store_device got;
    int64_t seq = 0;
    for (size_t i = 0; i < COUNT_OF(in); i++) {
        OK(store_device_create(f->s, in[i]));
        got = get_device(f, in[i]->device_id);
        ASSERT_RECORD(got, *in[i], DEVICE);
        assert_true(got.seq > seq);
        seq = got.seq;
    }
    OK(store_device_get(f->s, &f->a, &f->all, NULL, "Front Door", false, &got));
    assert_string_equal(got.device_id, full.device_id);
    OK(store_device_get(f->s, &f->a, &f->all, NULL, "Entrance", false, &got));
    assert_string_equal(got.device_id, full.device_id);
    OK(store_transaction(f->s, get_device_for_update, f));
    NOT_FOUND(store_device_get(f->s, &f->a, &f->all, new_id(f), NULL, false, &got),
              "device_not_found");
    NOT_FOUND(store_device_get(f->s, &f->a, &f->all, NULL, "Nowhere", false, &got),
              "device_not_found");
    FAILS(store_device_create(f->s, &full)); /* its id is taken */
}

static void device_upsert(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *acc2 = make_account(f, f->ws, "b@example.com", NULL);
    store_device first = device_of(f, f->ws, acc, "Kitchen");
    first.provider_device_key = "zwave-7";
    first.created_at = T0;
    const char *proposed = first.device_id;
    bool created = false;
    OK(store_device_upsert(f->s, &f->a, &first, &created));
    assert_true(created);
    assert_string_equal(first.device_id, proposed);
    OK(store_device_update(f->s, &f->all, first.device_id, "Kitchen door", "{\"room\":\"k\"}"));
    store_device again = {.device_id = new_id(f), .workspace_id = f->ws,
                          .connected_account_id = acc, .device_type = "yale_lock",
                          .manufacturer = "yale", .name = "Kitchen v2",
                          .nickname = "ignored", .model = "Assure", .online = false, .locked = 0,
                          .battery_level = 0.25, .can_remotely_unlock = true,
                          .provider_device_key = "zwave-7", .extra_properties = "{\"fw\":2}",
                          .custom_metadata = "{\"ignored\":true}", .created_at = T0 + 99};
    OK(store_device_upsert(f->s, &f->a, &again, &created));
    assert_false(created);
    assert_string_equal(again.device_id, first.device_id);
    /* what the provider reports is refreshed; id, nickname, metadata, creation kept */
    store_device want = again, got = get_device(f, first.device_id), *rows;
    want.nickname = "Kitchen door";
    want.custom_metadata = "{\"room\":\"k\"}";
    want.created_at = T0;
    ASSERT_RECORD(got, want, DEVICE);
    assert_int_equal(devices_in(f, &f->all, NULL, &rows), 1);
    store_device elsewhere = device_of(f, f->ws, acc2, "Kitchen");
    elsewhere.provider_device_key = "zwave-7"; /* the same key at another account */
    OK(store_device_upsert(f->s, &f->a, &elsewhere, &created));
    assert_true(created);
    for (int i = 0; i < 2; i++) { /* no key: each one is a new device */
        store_device keyless = device_of(f, f->ws, acc2, "Keyless");
        OK(store_device_upsert(f->s, &f->a, &keyless, &created));
        assert_true(created);
    }
    assert_int_equal(devices_in(f, &f->all, NULL, &rows), 4);
}

static void device_update_set_locked_delete(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door"), *none = new_id(f);
    OK(store_device_update(f->s, &f->all, dev, "Nick", NULL));
    OK(store_device_update(f->s, &f->all, dev, NULL, "{\"a\":\"b\"}"));
    store_device d = get_device(f, dev);
    assert_string_equal(d.nickname, "Nick");
    assert_string_equal(d.custom_metadata, "{\"a\":\"b\"}");
    OK(store_device_update(f->s, &f->all, dev, "", NULL));
    d = get_device(f, dev);
    assert_null(d.nickname);
    assert_string_equal(d.custom_metadata, "{\"a\":\"b\"}");
    OK(store_device_set_locked(f->s, &f->all, dev, false));
    assert_int_equal(get_device(f, dev).locked, 0);
    OK(store_device_set_locked(f->s, &f->all, dev, true));
    assert_int_equal(get_device(f, dev).locked, 1);
    NOT_FOUND(store_device_update(f->s, &f->all, none, "x", NULL), "device_not_found");
    NOT_FOUND(store_device_set_locked(f->s, &f->all, none, true), "device_not_found");
    store_event ev = {.workspace_id = f->ws, .event_type = "device.removed", .device_id = dev,
                      .connected_account_id = acc};
    NOT_FOUND(store_device_delete(f->s, &f->all, none, &ev), "device_not_found");
    OK(store_device_delete(f->s, &f->all, dev, &ev));
    NOT_FOUND(store_device_get(f->s, &f->a, &f->all, dev, NULL, false, &d), "device_not_found");
    NOT_FOUND(store_device_delete(f->s, &f->all, dev, &ev), "device_not_found");
    assert_int_equal(events_of_type(f, "device.removed"), 1);
    OK(store_device_delete(f->s, &f->all, make_device(f, f->ws, acc, "Other"), NULL));
}

static void device_list_filters(void **state)
{
    fx *f = *state;
    const char *a = make_account(f, f->ws, "a@example.com", NULL);
    const char *b = make_account(f, f->ws, "b@example.com", NULL);
    const char *wv = make_webview(f, f->ws, NULL);
    authorize(f, f->ws, wv, b);
    store_device in[] = {device_of(f, f->ws, a, "Front Door"),
                         device_of(f, f->ws, a, "Back 100% Door"),
                         device_of(f, f->ws, a, "garage_door"),
                         device_of(f, f->ws, b, "Thermostat")};
    in[0].nickname = "Entrance";
    in[0].custom_metadata = "{\"floor\":\"1\",\"smart\":true}";
    in[1].device_type = "schlage_lock";
    in[1].manufacturer = "schlage";
    in[1].custom_metadata = "{\"floor\":\"2\"}";
    in[2].nickname = "GARAGE";
    in[2].custom_metadata = "{\"smart\":\"true\"}";
    in[3].device_type = "ecobee_thermostat";
    in[3].manufacturer = "ecobee";
    for (size_t i = 0; i < COUNT_OF(in); i++) {
        in[i].created_at = T0 + (int64_t)i + 1;
        OK(store_device_create(f->s, &in[i]));
    }
    make_device(f, f->other, make_account(f, f->other, "a@example.com", NULL), "Front Door");
    const char *d1 = in[0].device_id, *d2 = in[1].device_id, *d3 = in[2].device_id,
               *d4 = in[3].device_id;
    const metadata_match floor1 = {"floor", false, false, "1"}, smart = {"smart", true, true, NULL},
                         smart_text = {"smart", false, false, "true"};
    const struct {
        store_device_filter filter;
        str_list want;
    } cases[] = {
        {{0}, LIST(d1, d2, d3, d4)},
        {{.device_ids = &LIST(d4, d2)}, LIST(d2, d4)},
        {{.device_ids = &NO_IDS}, NO_IDS},
        {{.connected_account_ids = &LIST(b)}, LIST(d4)},
        {{.connected_account_ids = &NO_IDS}, NO_IDS},
        {{.device_types = &LIST("august_lock")}, LIST(d1, d3)},
        {{.device_types = &NO_IDS}, NO_IDS},
        {{.manufacturer = "schlage"}, LIST(d2)},
        {{.connect_webview_id = wv}, LIST(d4)},
        {{.connect_webview_id = "no-such-webview"}, NO_IDS},
        {{.created_before = T0 + 3}, LIST(d1, d2)},
        {{.search = "DOOR"}, LIST(d1, d2, d3)},
        {{.search = "entr"}, LIST(d1)},   /* the nickname */
        {{.search = "garage"}, LIST(d3)}, /* name and nickname: once */
        {{.search = "100%"}, LIST(d2)},
        {{.search = "%"}, LIST(d2)},
        {{.search = "_"}, LIST(d3)},
        {{.search = "100_"}, NO_IDS},
        {{.search = "t_d"}, NO_IDS},
        {{.search = "%door"}, NO_IDS},
        {{.search = d4}, LIST(d4)}, /* an exact id */
        {{.metadata = &(metadata_filter){&floor1, 1}}, LIST(d1)},
        {{.metadata = &(metadata_filter){&smart, 1}}, LIST(d1)},
        {{.metadata = &(metadata_filter){&smart_text, 1}}, LIST(d3)},
        {{.device_types = &LIST("august_lock"), .manufacturer = "august", .search = "garage"},
         LIST(d3)},
    };
    store_device *rows;
    size_t n;
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        n = devices_in(f, &f->all, &cases[i].filter, &rows);
        ASSERT_IDS(rows, n, device_id, cases[i].want);
    }
    OK(store_device_list(f->s, &f->a, &f->all, &cases[0].filter, &(store_page){0, 2}, &rows, &n));
    ASSERT_IDS(rows, n, device_id, LIST(d1, d2));
    store_page next = {rows[1].seq, 2};
    OK(store_device_list(f->s, &f->a, &f->all, &cases[0].filter, &next, &rows, &n));
    ASSERT_IDS(rows, n, device_id, LIST(d3, d4));
    next.after_seq = rows[1].seq;
    OK(store_device_list(f->s, &f->a, &f->all, &cases[0].filter, &next, &rows, &n));
    assert_int_equal(n, 0);
}

/* ---- scope ---- */

/* Session "user-s" holds account a directly and webview wv_b, through which
 * account b is connected after the grant; account c, webview wv_c and their
 * rows belong to session "user-t". */
typedef struct world {
    const char *session, *acc_a, *acc_b, *acc_c, *wv_b, *wv_c, *dev_a, *dev_b, *dev_c;
    const char *ev_a, *ev_b, *ev_c, *ev_none, *att_a, *att_c;
} world;

static void build_world(fx *f, world *w)
{
    w->acc_a = make_account(f, f->ws, "a@example.com", NULL);
    w->acc_b = make_account(f, f->ws, "b@example.com", NULL);
    w->acc_c = make_account(f, f->ws, "c@example.com", NULL);
    w->wv_b = make_webview(f, f->ws, NULL);
    w->wv_c = make_webview(f, f->ws, NULL);
    w->session = make_session(f, f->ws, "user-s", LIST(w->acc_a), LIST(w->wv_b));
    make_session(f, f->ws, "user-t", LIST(w->acc_c), LIST(w->wv_c));
    authorize(f, f->ws, w->wv_b, w->acc_b);
    authorize(f, f->ws, w->wv_c, w->acc_c);
    w->dev_a = make_device(f, f->ws, w->acc_a, "Door A");
    w->dev_b = make_device(f, f->ws, w->acc_b, "Door B");
    w->dev_c = make_device(f, f->ws, w->acc_c, "Door C");
    w->ev_a = make_event(f, f->ws, "device.unlocked", w->dev_a, w->acc_a, NULL, f->now);
    w->ev_b = make_event(f, f->ws, "connected_account.connected", NULL, w->acc_b, w->wv_b, f->now);
    w->ev_c = make_event(f, f->ws, "device.unlocked", w->dev_c, w->acc_c, NULL, f->now);
    w->ev_none = make_event(f, f->ws, "workspace.updated", NULL, NULL, NULL, f->now);
    w->att_a = make_attempt(f, w->dev_a, w->acc_a, "success", f->now);
    w->att_c = make_attempt(f, w->dev_c, w->acc_c, "success", f->now);
}

/* What sc lists of each scoped resource, in creation order. */
static void assert_sees(fx *f, const store_scope *sc, str_list accounts, str_list webviews,
                        str_list devices, str_list events, str_list attempts)
{
    store_connected_account *ca;
    store_connect_webview *cw;
    store_device *d;
    store_event *ev;
    store_action_attempt *aa;
    size_t n = accounts_in(f, sc, NULL, &ca);
    ASSERT_IDS(ca, n, connected_account_id, accounts);
    n = webviews_in(f, sc, NULL, &cw);
    ASSERT_IDS(cw, n, connect_webview_id, webviews);
    n = devices_in(f, sc, NULL, &d);
    ASSERT_IDS(d, n, device_id, devices);
    n = events_in(f, sc, NULL, &ev);
    ASSERT_IDS(ev, n, event_id, events);
    n = attempts_in(f, sc, NULL, NULL, &aa);
    ASSERT_IDS(aa, n, action_attempt_id, attempts);
}

static void scope_reads(void **state)
{
    fx *f = *state;
    world w;
    build_world(f, &w);
    const store_scope held[] = {{f->ws, w.session, NULL}, {f->ws, NULL, "user-s"},
                                {f->ws, w.session, "user-s"}};
    for (size_t i = 0; i < COUNT_OF(held); i++) {
        const store_scope *sc = &held[i];
        assert_sees(f, sc, LIST(w.acc_a, w.acc_b), LIST(w.wv_b), LIST(w.dev_a, w.dev_b),
                    LIST(w.ev_a, w.ev_b), LIST(w.att_a));
        store_connected_account ca;
        store_connect_webview cw;
        store_device d;
        store_event ev;
        store_action_attempt aa;
        OK(store_device_get(f->s, &f->a, sc, w.dev_b, NULL, false, &d));
        OK(store_connected_account_get(f->s, &f->a, sc, w.acc_b, NULL, false, &ca));
        NOT_FOUND(store_connected_account_get(f->s, &f->a, sc, w.acc_c, NULL, false, &ca),
                  "connected_account_not_found");
        NOT_FOUND(store_connected_account_get(f->s, &f->a, sc, NULL, "c@example.com", false, &ca),
                  "connected_account_not_found");
        NOT_FOUND(store_connect_webview_get(f->s, &f->a, sc, w.wv_c, &cw),
                  "connect_webview_not_found");
        NOT_FOUND(store_device_get(f->s, &f->a, sc, w.dev_c, NULL, false, &d), "device_not_found");
        NOT_FOUND(store_device_get(f->s, &f->a, sc, NULL, "Door C", false, &d), "device_not_found");
        NOT_FOUND(store_event_get(f->s, &f->a, sc, w.ev_c, &ev), "event_not_found");
        NOT_FOUND(store_event_get(f->s, &f->a, sc, w.ev_none, &ev), "event_not_found");
        NOT_FOUND(store_action_attempt_get(f->s, &f->a, sc, w.att_c, &aa),
                  "action_attempt_not_found");
    }
    assert_int_equal(get_session(f, w.session).device_count, 2);
    /* a user without a session; two sessions with nothing in common; another workspace */
    const store_scope none[] = {{f->ws, NULL, "nobody"}, {f->ws, w.session, "user-t"},
                                {f->other, NULL, NULL}, {f->other, w.session, NULL},
                                {f->other, NULL, "user-s"}};
    for (size_t i = 0; i < COUNT_OF(none); i++) {
        assert_sees(f, &none[i], NO_IDS, NO_IDS, NO_IDS, NO_IDS, NO_IDS);
        store_device d;
        NOT_FOUND(store_device_get(f->s, &f->a, &none[i], w.dev_a, NULL, false, &d),
                  "device_not_found");
    }
    assert_sees(f, &f->all, LIST(w.acc_a, w.acc_b, w.acc_c), LIST(w.wv_b, w.wv_c),
                LIST(w.dev_a, w.dev_b, w.dev_c), LIST(w.ev_a, w.ev_b, w.ev_c, w.ev_none),
                LIST(w.att_a, w.att_c));
}

static void scope_writes(void **state)
{
    fx *f = *state;
    world w;
    build_world(f, &w);
    const store_scope outside[] = {{f->ws, w.session, NULL}, {f->ws, NULL, "user-s"},
                                   {f->ws, NULL, "nobody"}, {f->other, NULL, NULL}};
    store_event ev = {.workspace_id = f->ws, .event_type = "device.removed", .device_id = w.dev_c,
                      .connected_account_id = w.acc_c};
    for (size_t i = 0; i < COUNT_OF(outside); i++) {
        const store_scope *sc = &outside[i];
        NOT_FOUND(store_device_update(f->s, sc, w.dev_c, "hacked", "{}"), "device_not_found");
        NOT_FOUND(store_device_set_locked(f->s, sc, w.dev_c, false), "device_not_found");
        NOT_FOUND(store_device_delete(f->s, sc, w.dev_c, &ev), "device_not_found");
        NOT_FOUND(store_connected_account_update(f->s, sc, w.acc_c, "hacked", "{}", NULL),
                  "connected_account_not_found");
        NOT_FOUND(store_connected_account_delete(f->s, sc, w.acc_c, NULL),
                  "connected_account_not_found");
        NOT_FOUND(store_connect_webview_delete(f->s, sc, w.wv_c), "connect_webview_not_found");
    }
    /* unchanged, as an unscoped read shows */
    store_device d = get_device(f, w.dev_c);
    assert_true(!d.nickname && !d.custom_metadata && d.locked == 1);
    assert_int_equal(events_of_type(f, "device.removed"), 0);
    store_connected_account ca;
    OK(store_connected_account_get(f->s, &f->a, &f->all, w.acc_c, NULL, false, &ca));
    assert_true(!ca.display_name && !ca.custom_metadata);
    get_webview(f, w.wv_c);
    /* what the session holds, it may change */
    const store_scope mine = {f->ws, w.session, NULL};
    OK(store_device_update(f->s, &mine, w.dev_b, "Mine", NULL));
    OK(store_device_set_locked(f->s, &mine, w.dev_b, false));
    d = get_device(f, w.dev_b);
    assert_true(strcmp(d.nickname, "Mine") == 0 && d.locked == 0);
    OK(store_connected_account_update(f->s, &mine, w.acc_b, "Via webview", NULL, NULL));
    OK(store_device_delete(f->s, &mine, w.dev_a, NULL));
    OK(store_connect_webview_delete(f->s, &mine, w.wv_b));
}

/* ---- transactions ---- */

typedef struct txn_case {
    fx *f;
    store_connected_account outer, inner, after;
    bool inner_fails, outer_fails;
    err inner_result;
    const char *device; /* deleted (with its event) inside, when set */
} txn_case;

static err inner_fn(store *s, void *ctx)
{
    txn_case *t = ctx;
    err e = store_connected_account_create(s, &t->inner);
    return err_failed(e) ? e : t->inner_fails ? TEST_FAILURE : ERR_NONE;
}

static err outer_fn(store *s, void *ctx)
{
    txn_case *t = ctx;
    err e = store_connected_account_create(s, &t->outer);
    store_event ev = {.workspace_id = t->f->ws, .event_type = "device.removed"};
    if (!err_failed(e) && t->device)
        e = store_device_delete(s, &t->f->all, t->device, &ev);
    if (err_failed(e))
        return e;
    t->inner_result = store_transaction(s, inner_fn, t);
    if (err_failed(t->inner_result) && !t->inner_fails)
        return t->inner_result;
    if (err_failed(e = store_connected_account_create(s, &t->after)))
        return e;
    return t->outer_fails ? TEST_FAILURE : ERR_NONE;
}

static void run_txn_case(fx *f, bool inner_fails, bool outer_fails, bool with_device)
{
    const char *acc = make_account(f, f->ws, "d@example.com", NULL);
    txn_case t = {f, account_of(f, f->ws, "o@example.com"), account_of(f, f->ws, "i@example.com"),
                  account_of(f, f->ws, "x@example.com"), inner_fails, outer_fails, ERR_NONE,
                  with_device ? make_device(f, f->ws, acc, "Door") : NULL};
    err e = store_transaction(f->s, outer_fn, &t);
    FAILS_WITH(e, outer_fails ? ERR_BAD_REQUEST : ERR_OK, outer_fails ? "test_failure" : NULL);
    FAILS_WITH(t.inner_result, inner_fails ? ERR_BAD_REQUEST : ERR_OK,
               inner_fails ? "test_failure" : NULL);
    assert_int_equal(account_exists(f, t.outer.connected_account_id), !outer_fails);
    assert_int_equal(account_exists(f, t.inner.connected_account_id), !outer_fails && !inner_fails);
    assert_int_equal(account_exists(f, t.after.connected_account_id), !outer_fails);
    if (with_device) {
        store_device d;
        e = store_device_get(f->s, &f->a, &f->all, t.device, NULL, false, &d);
        assert_int_equal(store_not_found(e), !outer_fails);
        assert_int_equal(events_of_type(f, "device.removed"), outer_fails ? 0 : 1);
    }
}

static void transaction_commits(void **state) { run_txn_case(*state, false, false, true); }
/* Everything fn wrote goes, a nested call's savepoint and a delete's event too. */
static void transaction_rolls_back(void **state) { run_txn_case(*state, false, true, true); }
/* A nested transaction (a savepoint) that fails: only its part goes. */
static void transaction_inner_rolls_back(void **state) { run_txn_case(*state, true, false, false); }

typedef struct conflict_case {
    fx *f;
    bool by_identity; /* the conflict: a user identity's key, or else a session's user */
    store_connected_account account;
    err conflict;
} conflict_case;

/* Writes an account, meets a conflict it expects and answers it, as a
 * handler would, and succeeds. */
static err handled_conflict_fn(store *s, void *ctx)
{
    conflict_case *c = ctx;
    err e = store_connected_account_create(s, &c->account);
    if (err_failed(e))
        return e;
    store_user_identity ui = {.user_identity_id = new_id(c->f), .workspace_id = c->f->ws,
                              .user_identity_key = "taken", .created_at = c->f->now};
    store_client_session cs = session_of(c->f, c->f->ws, "taken");
    c->conflict = c->by_identity ? store_user_identity_create(s, &ui)
                                 : create_session(c->f, &cs, NO_IDS, NO_IDS, NULL);
    return ERR_NONE;
}

/* fn succeeded, so what it wrote is committed, conflict or not. */
static void transaction_survives_handled_conflict(void **state)
{
    fx *f = *state;
    make_identity(f, f->ws, "taken");
    make_session(f, f->ws, "taken", NO_IDS, NO_IDS);
    for (int by_identity = 0; by_identity < 2; by_identity++) {
        conflict_case c = {f, by_identity, account_of(f, f->ws, "a@example.com"), ERR_NONE};
        OK(store_transaction(f->s, handled_conflict_fn, &c));
        FAILS_WITH(c.conflict, ERR_BAD_REQUEST,
                   by_identity ? "user_identity_key_already_exists"
                               : "client_session_token_already_exists");
        if (!account_exists(f, c.account.connected_account_id))
            fail_msg("after a %s conflict, store_transaction reported a commit, but what fn"
                     " wrote is gone", by_identity ? "user identity key" : "client session");
    }
}

/* A delete whose event cannot be written leaves the row. */
static void delete_with_event_is_atomic(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door");
    const char *s = make_session(f, f->ws, "u", LIST(acc), NO_IDS);
    store_event broken = {.workspace_id = f->ws, .event_type = NULL}, *rows; /* NOT NULL */
    FAILS(store_device_delete(f->s, &f->all, dev, &broken));
    FAILS(store_connected_account_delete(f->s, &f->all, acc, &broken));
    FAILS(store_client_session_delete(f->s, f->ws, s, &broken));
    get_device(f, dev);
    assert_true(account_exists(f, acc));
    assert_same_set(get_session(f, s).connected_account_ids, LIST(acc));
    assert_int_equal(events_in(f, &f->all, NULL, &rows), 0);
}

/* ---- action attempts ---- */

/* Attempts are claimed across workspaces: this finishes every one that
 * could be claimed, so that a test of claims starts from none. */
static void sweep_attempts(fx *f)
{
    store_action_attempt *rows;
    for (size_t n = 1; n;) {
        OK(store_action_attempt_claim(f->s, &f->a, "sweeper", FAR_FUTURE, 1, 100, &rows, &n));
        for (size_t i = 0; i < n; i++)
            OK(store_action_attempt_finish(f->s, rows[i].action_attempt_id, "sweeper", "success",
                                           NULL, NULL, FAR_FUTURE));
    }
    int64_t next = -1;
    OK(store_action_attempt_next_due(f->s, "test-owner", &next));
    assert_int_equal(next, 0);
}

static void action_attempt_round_trip(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door");
    const char *dev2 = make_device(f, f->ws, acc, "Gate");
    store_action_attempt in[] = {attempt_of(f, f->ws, dev, acc, "success", T0),
                                 attempt_of(f, f->ws, dev2, acc, "error", T0 + 1),
                                 attempt_of(f, f->ws, dev, acc, "pending", FAR_FUTURE / 2)}, got;
    in[1].action_type = "LOCK_DOOR";
    in[1].error_type = "device_offline";
    in[1].error_message = "The device is offline.";
    for (size_t i = 0; i < COUNT_OF(in); i++) {
        OK(store_action_attempt_create(f->s, &in[i]));
        got = get_attempt(f, in[i].action_attempt_id);
        ASSERT_RECORD(got, in[i], ATTEMPT);
    }
    const char *a1 = in[0].action_attempt_id, *a2 = in[1].action_attempt_id,
               *a3 = in[2].action_attempt_id;
    store_action_attempt *rows;
    size_t n = attempts_in(f, &f->all, NULL, NULL, &rows);
    ASSERT_IDS(rows, n, action_attempt_id, LIST(a1, a2, a3));
    assert_true(rows[0].seq > 0 && rows[0].seq < rows[1].seq && rows[1].seq < rows[2].seq);
    n = attempts_in(f, &f->all, &LIST(a3, a1), NULL, &rows);
    ASSERT_IDS(rows, n, action_attempt_id, LIST(a1, a3));
    assert_int_equal(attempts_in(f, &f->all, &NO_IDS, NULL, &rows), 0);
    n = attempts_in(f, &f->all, NULL, dev2, &rows);
    ASSERT_IDS(rows, n, action_attempt_id, LIST(a2));
    OK(store_action_attempt_list(f->s, &f->a, &f->all, NULL, NULL, &(store_page){0, 2}, &rows, &n));
    ASSERT_IDS(rows, n, action_attempt_id, LIST(a1, a2));
    store_page next = {rows[1].seq, 2};
    OK(store_action_attempt_list(f->s, &f->a, &f->all, NULL, NULL, &next, &rows, &n));
    ASSERT_IDS(rows, n, action_attempt_id, LIST(a3));
    NOT_FOUND(store_action_attempt_get(f->s, &f->a, &f->all, new_id(f), &got),
              "action_attempt_not_found");
    NOT_FOUND(store_action_attempt_get(f->s, &f->a, &(store_scope){f->other}, a1, &got),
              "action_attempt_not_found");
    sweep_attempts(f); /* the pending one */
}

static size_t claim(fx *f, const char *owner, int64_t now, size_t limit,
                    store_action_attempt **rows)
{
    size_t n = 0;
    OK(store_action_attempt_claim(f->s, &f->a, owner, now, 1000, limit, rows, &n));
    return n;
}

static void action_attempt_leases(void **state)
{
    fx *f = *state;
    sweep_attempts(f);
    const char *acc = make_account(f, f->ws, "a@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door");
    const char *a2 = make_attempt(f, dev, acc, "pending", T0 + 5);
    const char *a1 = make_attempt(f, dev, acc, "pending", T0); /* due first */
    const char *later = make_attempt(f, dev, acc, "pending", T0 + 100000);
    int64_t next = 0;
    OK(store_action_attempt_next_due(f->s, "test-owner", &next));
    assert_int_equal(next, T0);

    store_action_attempt *rows, got;
    assert_int_equal(claim(f, "node-a", T0 + 5, 10, &rows), 2);
    assert_same_set((str_list){(const char *const[]){rows[0].action_attempt_id,
                                                     rows[1].action_attempt_id}, 2},
                    LIST(a1, a2));
    for (size_t i = 0; i < 2; i++) {
        got = get_attempt(f, rows[i].action_attempt_id);
        ASSERT_RECORD(got, rows[i], ATTEMPT);
        assert_string_equal(got.status, "running");
        assert_string_equal(got.lease_owner, "node-a");
        assert_int_equal(got.lease_expires_at, T0 + 1005);
    }
    assert_int_equal(claim(f, "node-b", T0 + 5, 10, &rows), 0);    /* held */
    assert_int_equal(claim(f, "node-b", T0 + 1004, 10, &rows), 0); /* still */
    OK(store_action_attempt_next_due(f->s, "test-owner", &next));
    assert_int_equal(next, T0 + 1005); /* the lease, before the later one is due */

    /* node-a's lease ran out: node-b takes the oldest over */
    assert_int_equal(claim(f, "node-b", T0 + 1005, 1, &rows), 1);
    assert_string_equal(rows[0].action_attempt_id, a1);
    assert_string_equal(rows[0].lease_owner, "node-b");
    assert_int_equal(rows[0].lease_expires_at, T0 + 2005);
    NOT_FOUND(store_action_attempt_finish(f->s, a1, "node-a", "success", NULL, NULL, T0 + 1100),
              "action_attempt_not_found");
    got = get_attempt(f, a1);
    ASSERT_RECORD(got, rows[0], ATTEMPT);
    OK(store_action_attempt_finish(f->s, a1, "node-b", "error", "device_offline", "Offline",
                                   T0 + 1500));
    got = get_attempt(f, a1);
    assert_string_equal(got.status, "error");
    assert_string_equal(got.error_type, "device_offline");
    assert_string_equal(got.error_message, "Offline");
    assert_int_equal(got.completed_at, T0 + 1500);
    NOT_FOUND(store_action_attempt_finish(f->s, a1, "node-b", "success", NULL, NULL, T0 + 1600),
              "action_attempt_not_found");

    /* released: pending again, for anyone */
    NOT_FOUND(store_action_attempt_release(f->s, a2, "node-b"), "action_attempt_not_found");
    OK(store_action_attempt_release(f->s, a2, "node-a"));
    got = get_attempt(f, a2);
    assert_string_equal(got.status, "pending");
    assert_true(!got.lease_owner && !got.lease_expires_at);
    NOT_FOUND(store_action_attempt_release(f->s, a2, "node-a"), "action_attempt_not_found");
    assert_int_equal(claim(f, "node-c", T0 + 1006, 10, &rows), 1);
    assert_string_equal(rows[0].action_attempt_id, a2);
    OK(store_action_attempt_finish(f->s, a2, "node-c", "success", NULL, NULL, T0 + 1100));
    got = get_attempt(f, a2);
    assert_string_equal(got.status, "success");
    assert_true(!got.error_type && got.completed_at == T0 + 1100);

    OK(store_action_attempt_next_due(f->s, "test-owner", &next));
    assert_int_equal(next, T0 + 100000);
    sweep_attempts(f);
    assert_string_equal(get_attempt(f, later).lease_owner, "sweeper");
}

/* ---- live providers: links and connects ---- */

static size_t links_held(fx *f, const char *owner, int64_t now, store_connected_account **held)
{
    size_t n = 0;
    OK(store_provider_links_claim(f->s, &f->a, owner, now, 1000, held, &n));
    return n;
}

/* One node at a time holds a live account; its attempts are that node's. */
static void provider_links_leases(void **state)
{
    fx *f = *state;
    sweep_attempts(f);
    const char *acc = make_account(f, f->ws, "live@example.com", NULL);
    const char *plain = make_account(f, f->ws, "plain@example.com", NULL);
    OK(store_connected_account_set_settings(f->s, acc, "sealed-settings"));
    OK(store_provider_link_add(f->s, acc));
    OK(store_provider_link_add(f->s, acc)); /* once */
    store_connected_account *held;
    assert_int_equal(links_held(f, "node-a", T0, &held), 1);
    assert_string_equal(held[0].connected_account_id, acc);
    assert_string_equal(held[0].settings_sealed, "sealed-settings");
    assert_int_equal(links_held(f, "node-b", T0 + 999, &held), 0);   /* held by node-a */
    assert_int_equal(links_held(f, "node-a", T0 + 500, &held), 1);   /* renewed to T0 + 1500 */
    assert_int_equal(links_held(f, "node-b", T0 + 1001, &held), 0);

    /* Attempts on its devices: node-a's; on a sandbox account's: anyone's. */
    const char *live_dev = make_device(f, f->ws, acc, "Door");
    const char *plain_dev = make_device(f, f->ws, plain, "Gate");
    const char *live_aa = make_attempt(f, live_dev, acc, "pending", T0);
    const char *plain_aa = make_attempt(f, plain_dev, plain, "pending", T0);
    int64_t next = 0;
    OK(store_action_attempt_next_due(f->s, "node-b", &next));
    assert_int_equal(next, T0); /* the sandbox one */
    store_action_attempt *rows;
    assert_int_equal(claim(f, "node-b", T0 + 1, 10, &rows), 1);
    assert_string_equal(rows[0].action_attempt_id, plain_aa);
    OK(store_action_attempt_next_due(f->s, "node-b", &next));
    assert_int_equal(next, T0 + 1001); /* its own lease: the live one is not node-b's */
    assert_int_equal(claim(f, "node-a", T0 + 1, 10, &rows), 1);
    assert_string_equal(rows[0].action_attempt_id, live_aa);
    OK(store_action_attempt_extend(f->s, live_aa, "node-a", T0 + 20000));
    NOT_FOUND(store_action_attempt_extend(f->s, live_aa, "node-b", T0 + 20000),
              "action_attempt_not_found");
    assert_int_equal(get_attempt(f, live_aa).lease_expires_at, T0 + 20000);

    /* node-a died: node-b takes the account once the lease ran out. */
    assert_int_equal(links_held(f, "node-b", T0 + 1500, &held), 1);
    assert_int_equal(links_held(f, "node-a", T0 + 1501, &held), 0);
    /* node-b shuts down: node-c takes it at once. */
    OK(store_provider_links_release(f->s, "node-b"));
    assert_int_equal(links_held(f, "node-c", T0 + 1502, &held), 1);
    OK(store_connected_account_delete(f->s, &f->all, acc, NULL));
    assert_int_equal(links_held(f, "node-c", T0 + 1503, &held), 0);
    sweep_attempts(f);
}

static void live_connect_tries(void **state)
{
    fx *f = *state;
    const char *wv = make_webview(f, f->ws, NULL);
    store_live_connect lc = {.connect_webview_id = wv, .provider = "zigbee2mqtt",
                             .login = "mqtt://h:1883/z", .settings_sealed = "sealed", .created_at = T0},
                       got, *rows;
    size_t n = 0;
    NOT_FOUND(store_live_connect_get(f->s, &f->a, wv, &got), "live_connect_not_found");
    OK(store_live_connect_request(f->s, &lc));
    OK(store_live_connect_claim(f->s, &f->a, "node-a", T0, 1000, 10, &rows, &n));
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].settings_sealed, "sealed");
    assert_string_equal(rows[0].owner, "node-a");
    OK(store_live_connect_claim(f->s, &f->a, "node-b", T0 + 999, 1000, 10, &rows, &n));
    assert_int_equal(n, 0); /* node-a is making it */
    NOT_FOUND(store_live_connect_fail(f->s, wv, "node-b", "no"), "live_connect_not_found");
    OK(store_live_connect_fail(f->s, wv, "node-a", "The broker refused the username or password."));
    OK(store_live_connect_get(f->s, &f->a, wv, &got));
    assert_null(got.settings_sealed); /* the settings go with the try */
    assert_string_equal(got.error, "The broker refused the username or password.");
    OK(store_live_connect_claim(f->s, &f->a, "node-b", T0 + 5000, 1000, 10, &rows, &n));
    assert_int_equal(n, 0); /* nothing to do */
    OK(store_live_connect_request(f->s, &lc)); /* tried again: due at once */
    OK(store_live_connect_get(f->s, &f->a, wv, &got));
    assert_null(got.error);
    OK(store_live_connect_claim(f->s, &f->a, "node-b", T0 + 5000, 1000, 10, &rows, &n));
    assert_int_equal(n, 1);
    NOT_FOUND(store_live_connect_done(f->s, wv, "node-a"), "live_connect_not_found");
    OK(store_live_connect_done(f->s, wv, "node-b"));
    NOT_FOUND(store_live_connect_get(f->s, &f->a, wv, &got), "live_connect_not_found");
}

/* ---- events ---- */

static void event_round_trip(void **state)
{
    fx *f = *state;
    store_event full = {0, new_id(f), f->ws, "lock.unlocked", "d-1", "ca-1", "cw-1", "cs-1", "aa-1",
                        T0};
    store_event bare = {.event_id = new_id(f), .workspace_id = f->ws, .event_type = "x",
                        .created_at = T0};
    store_event got[2], *rows;
    OK(store_event_add(f->s, &full));
    OK(store_event_add(f->s, &bare));
    OK(store_event_get(f->s, &f->a, &f->all, full.event_id, &got[0]));
    OK(store_event_get(f->s, &f->a, &f->all, bare.event_id, &got[1]));
    ASSERT_RECORD(got[0], full, EVENT);
    ASSERT_RECORD(got[1], bare, EVENT);
    assert_true(got[0].seq > 0 && got[1].seq > got[0].seq);
    const int64_t before = time_now_ms();
    OK(store_event_record(f->s, (store_event){.workspace_id = f->ws, .event_type = "recorded",
                                              .device_id = "d-2"}));
    const int64_t after = time_now_ms();
    store_event_filter recorded = {.device_ids = &LIST("d-2")};
    assert_int_equal(events_in(f, &f->all, &recorded, &rows), 1);
    assert_true(uuid_is_valid(rows[0].event_id));
    assert_true(rows[0].created_at >= before && rows[0].created_at <= after);
    assert_string_equal(rows[0].event_type, "recorded");
    assert_null(rows[0].connected_account_id);
    NOT_FOUND(store_event_get(f->s, &f->a, &f->all, new_id(f), &got[0]), "event_not_found");
    NOT_FOUND(store_event_get(f->s, &f->a, &(store_scope){f->other}, full.event_id, &got[0]),
              "event_not_found");
}

static void event_list_filters(void **state)
{
    fx *f = *state;
    const char *a = make_account(f, f->ws, "a@example.com", NULL);
    const char *b = make_account(f, f->ws, "b@example.com", NULL);
    const char *d1 = make_device(f, f->ws, a, "One"), *d2 = make_device(f, f->ws, a, "Two");
    const char *wv = make_webview(f, f->ws, NULL);
    const char *e1 = make_event(f, f->ws, "device.unlocked", d1, a, NULL, T0 + 1);
    const char *e2 = make_event(f, f->ws, "device.locked", d2, a, NULL, T0 + 2);
    const char *e3 = make_event(f, f->ws, "connected_account.connected", NULL, b, wv, T0 + 3);
    const char *e4 = make_event(f, f->ws, "device.unlocked", d1, a, NULL, T0 + 4);
    make_event(f, f->other, "device.unlocked", d1, a, NULL, T0 + 1);
    const struct {
        store_event_filter filter;
        str_list want;
    } cases[] = {
        {{0}, LIST(e1, e2, e3, e4)},
        {{.since = T0 + 2}, LIST(e2, e3, e4)},
        {{.until = T0 + 2}, LIST(e1, e2)},
        {{.since = T0 + 2, .until = T0 + 3}, LIST(e2, e3)},
        {{.device_ids = &LIST(d1)}, LIST(e1, e4)},
        {{.device_ids = &NO_IDS}, NO_IDS},
        {{.event_types = &LIST("device.unlocked", "device.locked")}, LIST(e1, e2, e4)},
        {{.event_types = &NO_IDS}, NO_IDS},
        {{.connected_account_id = b}, LIST(e3)},
        {{.connect_webview_id = wv}, LIST(e3)},
        {{.since = T0 + 2, .device_ids = &LIST(d1, d2), .event_types = &LIST("device.unlocked")},
         LIST(e4)},
    };
    store_event *rows;
    size_t n;
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        n = events_in(f, &f->all, &cases[i].filter, &rows);
        ASSERT_IDS(rows, n, event_id, cases[i].want);
    }
    OK(store_event_list(f->s, &f->a, &f->all, &cases[0].filter, &(store_page){0, 2}, &rows, &n));
    ASSERT_IDS(rows, n, event_id, LIST(e1, e2));
    store_page next = {rows[1].seq, 2};
    OK(store_event_list(f->s, &f->a, &f->all, &cases[0].filter, &next, &rows, &n));
    ASSERT_IDS(rows, n, event_id, LIST(e3, e4));
    /* scoped, by session and by user: account a's events only */
    const char *s = make_session(f, f->ws, "u", LIST(a), NO_IDS);
    n = events_in(f, &(store_scope){f->ws, s, NULL}, &cases[4].filter, &rows);
    ASSERT_IDS(rows, n, event_id, LIST(e1, e4));
    n = events_in(f, &(store_scope){f->ws, NULL, "u"}, NULL, &rows);
    ASSERT_IDS(rows, n, event_id, LIST(e1, e2, e4));
}

/* ---- several threads at once, each with its own connection ---- */

enum { THREADS = 4, ROUNDS = 10, RACED = 40 };

typedef struct race {
    fx *f;
    const char *account, *webview; /* the one they all work on */
    pthread_barrier_t go;
    pthread_mutex_t lock;
    int ok, conflicts, created, failures, next_owner;
    bool seen[THREADS * ROUNDS + 1];
    char claimed[RACED + THREADS][UUID_STR_LEN];
    size_t nclaimed;
} race;

/* Counts under the race's lock. */
static void tally(race *r, int *counter)
{
    pthread_mutex_lock(&r->lock);
    ++*counter;
    pthread_mutex_unlock(&r->lock);
}

static void race_session(race *r, arena *a)
{
    char id[UUID_STR_LEN];
    uuid_v4(id);
    store_client_session cs = {.client_session_id = id, .workspace_id = r->f->ws,
                               .user_identifier_key = "racer", .token_sealed = "sealed",
                               .created_at = r->f->now, .expires_at = r->f->now + HOUR};
    err e = store_client_session_create(r->f->s, &cs, arena_sprintf(a, "hash-%s", id),
                                        &(store_client_session_grants){0}, NULL);
    bool conflict = e.type && strcmp(e.type, "client_session_token_already_exists") == 0;
    tally(r, !err_failed(e) ? &r->ok : conflict ? &r->conflicts : &r->failures);
}

static void race_upsert(race *r, arena *a)
{
    for (int i = 0; i < ROUNDS; i++) {
        char id[UUID_STR_LEN];
        uuid_v4(id);
        store_device d = {.device_id = arena_strdup(a, id), .workspace_id = r->f->ws,
                          .connected_account_id = r->account, .device_type = "august_lock",
                          .name = "Raced", .locked = -1, .battery_level = -1,
                          .provider_device_key = "raced", .created_at = r->f->now};
        bool created = false;
        err e = store_device_upsert(r->f->s, a, &d, &created);
        tally(r, err_failed(e) ? &r->failures : created ? &r->created : &r->ok);
    }
}

static void race_failed_login(race *r, arena *a)
{
    (void)a;
    for (int i = 0; i < ROUNDS; i++) {
        int64_t count = 0;
        err e = store_connect_webview_failed_login(r->f->s, r->f->ws, r->webview, &count);
        pthread_mutex_lock(&r->lock);
        bool fresh = !err_failed(e) && count >= 1 && count <= THREADS * ROUNDS && !r->seen[count];
        if (fresh)
            r->seen[count] = true;
        r->failures += !fresh;
        pthread_mutex_unlock(&r->lock);
    }
}

static void race_claim(race *r, arena *a)
{
    char owner[16];
    pthread_mutex_lock(&r->lock);
    snprintf(owner, sizeof owner, "node-%d", r->next_owner++);
    pthread_mutex_unlock(&r->lock);
    store_action_attempt *rows;
    size_t n = 1;
    for (err e = ERR_NONE; n && !err_failed(e);) {
        e = store_action_attempt_claim(r->f->s, a, owner, T0, HOUR, 3, &rows, &n);
        pthread_mutex_lock(&r->lock);
        r->failures += err_failed(e);
        for (size_t i = 0; !err_failed(e) && i < n && r->nclaimed < COUNT_OF(r->claimed); i++)
            snprintf(r->claimed[r->nclaimed++], UUID_STR_LEN, "%s", rows[i].action_attempt_id);
        pthread_mutex_unlock(&r->lock);
    }
}

/* A transaction that adds a device, and then fails when its name says so. */
typedef struct partial {
    race *r;
    store_device d;
    bool fail;
} partial;

static err add_then_maybe_fail(store *s, void *p)
{
    partial *x = p;
    bool created = false;
    arena a;
    arena_init(&a);
    err e = store_device_upsert(s, &a, &x->d, &created);
    arena_free(&a);
    if (!err_failed(e) && x->fail)
        e = err_make(ERR_BAD_REQUEST, "dropped", "This one fails.");
    return e;
}

static void race_partial(race *r, arena *a)
{
    for (int i = 0; i < ROUNDS * 4; i++) {
        char id[UUID_STR_LEN];
        uuid_v4(id);
        partial x = {.r = r, .fail = i % 2,
                     .d = {.device_id = arena_strdup(a, id), .workspace_id = r->f->ws,
                           .connected_account_id = r->account, .device_type = "august_lock",
                           .name = i % 2 ? "Dropped" : "Kept", .locked = -1,
                           .battery_level = -1, .provider_device_key = arena_strdup(a, id),
                           .created_at = r->f->now}};
        err e = store_transaction(r->f->s, add_then_maybe_fail, &x);
        bool dropped = e.type && strcmp(e.type, "dropped") == 0;
        tally(r, !err_failed(e) && !x.fail ? &r->ok : dropped && x.fail ? &r->conflicts
                                                                          : &r->failures);
    }
}

typedef struct racer {
    race *r;
    void (*fn)(race *r, arena *a);
} racer;

static void *racer_main(void *p)
{
    racer *x = p;
    arena a;
    arena_init(&a);
    pthread_barrier_wait(&x->r->go);
    x->fn(x->r, &a);
    arena_free(&a);
    return NULL;
}

/* Runs fn on THREADS threads, started together. */
static void run_race(race *r, void (*fn)(race *r, arena *a))
{
    pthread_barrier_init(&r->go, NULL, THREADS);
    pthread_mutex_init(&r->lock, NULL);
    pthread_t t[THREADS];
    racer x = {r, fn};
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racer_main, &x), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&r->go);
    pthread_mutex_destroy(&r->lock);
    assert_int_equal(r->failures, 0);
}

static void races(void **state)
{
    fx *f = *state;
    race r = {.f = f};
    run_race(&r, race_session); /* one session per user */
    assert_true(r.ok == 1 && r.conflicts == THREADS - 1);

    r = (race){.f = f, .account = make_account(f, f->ws, "a@example.com", NULL)};
    run_race(&r, race_upsert); /* one device per key */
    store_device *devices;
    assert_true(r.created == 1 && r.ok == THREADS * ROUNDS - 1);
    assert_int_equal(devices_in(f, &f->all, NULL, &devices), 1);

    r = (race){.f = f, .webview = make_webview(f, f->ws, NULL)};
    run_race(&r, race_failed_login); /* each sign-in counted once */
    assert_int_equal(get_webview(f, r.webview).failed_logins, THREADS * ROUNDS);

    /* Write transactions at once (on SQLite they run combined): each one's
     * outcome is its own, and a failed one leaves nothing behind. */
    r = (race){.f = f, .account = make_account(f, f->ws, "p@example.com", NULL)};
    run_race(&r, race_partial);
    assert_int_equal(r.ok, THREADS * ROUNDS * 2);
    assert_int_equal(r.conflicts, THREADS * ROUNDS * 2);
    int kept = 0;
    size_t ndevices = devices_in(f, &f->all, NULL, &devices);
    for (size_t i = 0; i < ndevices; i++) {
        assert_string_not_equal(devices[i].name, "Dropped");
        kept += strcmp(devices[i].name, "Kept") == 0;
    }
    assert_int_equal(kept, THREADS * ROUNDS * 2);

    sweep_attempts(f); /* each attempt claimed once */
    const char *acc = make_account(f, f->ws, "b@example.com", NULL);
    const char *dev = make_device(f, f->ws, acc, "Door");
    for (int i = 0; i < RACED; i++)
        make_attempt(f, dev, acc, "pending", T0);
    r = (race){.f = f};
    run_race(&r, race_claim);
    assert_int_equal(r.nclaimed, RACED);
    for (size_t i = 0; i < r.nclaimed; i++)
        for (size_t j = i + 1; j < r.nclaimed; j++)
            assert_string_not_equal(r.claimed[i], r.claimed[j]);
    sweep_attempts(f);
}

/* A write transaction whose error rolled back the whole transaction it ran
 * in (SQLite does so on some errors: a full disk), with others combined
 * into the same one: each that was answered success is there, each that
 * was answered failure is not. The first holds the line for a moment so
 * that the next ones queue behind it and run as one batch. */
typedef struct wreck {
    partial add;
    long start_ms, hold_ms; /* before it asks; inside its transaction */
    bool roll_back; /* after adding, end the whole transaction */
    err result;
} wreck;

static err add_then_wreck(store *s, void *p)
{
    wreck *w = p;
    nanosleep(&(struct timespec){0, w->hold_ms * 1000000L}, NULL);
    err e = add_then_maybe_fail(s, &w->add);
    if (!err_failed(e) && w->roll_back) {
        db_execf(s->db, NULL, "ROLLBACK", "");
        e = TEST_FAILURE;
    }
    return e;
}

static void *wreck_main(void *p)
{
    wreck *w = p;
    nanosleep(&(struct timespec){0, w->start_ms * 1000000L}, NULL);
    w->result = store_transaction(w->add.r->f->s, add_then_wreck, w);
    return NULL;
}

static void rolled_back_batch(void **state)
{
    fx *f = *state;
    if (f->b->postgres)
        skip(); /* PostgreSQL runs each write transaction on its own */
    race r = {.f = f, .account = make_account(f, f->ws, "w@example.com", NULL)};
    enum { N = 4 };
    wreck w[N];
    char ids[N][UUID_STR_LEN];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        uuid_v4(ids[i]);
        w[i] = (wreck){.add = {.r = &r, .d = {.device_id = ids[i], .workspace_id = f->ws,
                                              .connected_account_id = r.account,
                                              .device_type = "august_lock", .name = "Wreck",
                                              .locked = -1, .battery_level = -1,
                                              .provider_device_key = ids[i],
                                              .created_at = f->now}},
                       .start_ms = i ? 50 : 0, .hold_ms = i ? 0 : 300, .roll_back = i == 1};
        assert_int_equal(pthread_create(&t[i], NULL, wreck_main, &w[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    assert_false(err_failed(w[0].result)); /* it ran alone, before the others */
    assert_true(err_failed(w[1].result));
    for (int i = 0; i < N; i++) {
        store_device d;
        bool there = !err_failed(store_device_get(f->s, &f->a, &f->all, ids[i], NULL, false, &d));
        if (there != !err_failed(w[i].result))
            fail_msg("transaction %d: answered %s, its device %s", i,
                     err_failed(w[i].result) ? "failed" : "ok", there ? "is there" : "is not");
    }
}

/* Two transactions that lock two rows in opposite orders: on PostgreSQL
 * one of them is chosen as the deadlock's victim (40P01) and
 * store_transaction runs it again, so both succeed; on SQLite the write
 * transactions simply take turns. */
typedef struct crossing {
    fx *f;
    const char *dev[2];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int holding; /* transactions that have locked their first row */
    int runs;    /* times a transaction's function ran */
    err result[2];
} crossing;

typedef struct crosser {
    crossing *x;
    int i;
} crosser;

static err cross(store *s, void *p)
{
    crosser *c = p;
    crossing *x = c->x;
    pthread_mutex_lock(&x->lock);
    x->runs++;
    pthread_mutex_unlock(&x->lock);
    err e = store_device_update(s, &x->f->all, x->dev[c->i], c->i ? "b1" : "a1", NULL);
    if (err_failed(e))
        return e;
    /* Both hold their first row before either asks for its second (on
     * SQLite the other waits for the write lock instead: give up waiting). */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 500000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&x->lock);
    x->holding++;
    pthread_cond_broadcast(&x->cond);
    while (x->holding < 2 && pthread_cond_timedwait(&x->cond, &x->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&x->lock);
    return store_device_update(s, &x->f->all, x->dev[1 - c->i], c->i ? "b2" : "a2", NULL);
}

static void *crosser_main(void *p)
{
    crosser *c = p;
    c->x->result[c->i] = store_transaction(c->x->f->s, cross, c);
    return NULL;
}

static void deadlock_is_retried(void **state)
{
    fx *f = *state;
    const char *acc = make_account(f, f->ws, "d@example.com", NULL);
    crossing x = {.f = f, .dev = {make_device(f, f->ws, acc, "X"), make_device(f, f->ws, acc, "Y")}};
    pthread_mutex_init(&x.lock, NULL);
    pthread_cond_init(&x.cond, NULL);
    crosser c[2] = {{&x, 0}, {&x, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, crosser_main, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_cond_destroy(&x.cond);
    pthread_mutex_destroy(&x.lock);
    OK(x.result[0]);
    OK(x.result[1]);
    if (f->b->postgres)
        assert_int_equal(x.runs, 3); /* the deadlock's victim ran again */
    else
        assert_int_equal(x.runs, 2);
}

/* ---- opening ---- */

static void open_refuses_newer_schema(void **state)
{
    fx *f = *state;
    err e = ERR_NONE;
    assert_int_equal(raw_exec(f->b, "INSERT INTO schema_migrations (version, applied_at)"
                                    " VALUES (999999, 0)"), 0);
    store *s = store_open(f->b->url, &e);
    assert_int_equal(raw_exec(f->b, "DELETE FROM schema_migrations WHERE version = 999999"), 0);
    if (s) {
        store_close(s);
        fail_msg("store_open accepted a schema newer than the build");
    }
    FAILS_WITH(e, ERR_INTERNAL, "schema_too_new");
    assert_non_null(s = store_open(f->b->url, &e)); /* as it was: migrated, its rows there */
    store_workspace w;
    e = store_workspace_get(s, &f->a, f->ws, &w);
    store_close(s);
    OK(e);
}

static void open_unreachable_is_unavailable(void **state)
{
    fx *f = *state;
    err e = ERR_NONE;
    assert_null(store_open(f->b->postgres ? "postgres://latchkey@127.0.0.1:1/none"
                                          : "sqlite:/nonexistent-latchkey-dir/store.db",
                           &e));
    FAILS_WITH(e, ERR_UNAVAILABLE, NULL);
}

/* ---- the table, run once per backend ---- */

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

static const struct CMUnitTest TESTS[] = {
    STORE_TEST(deadlock_is_retried),
    STORE_TEST(workspaces_and_api_keys),
    STORE_TEST(client_session_round_trip),
    STORE_TEST(client_session_list),
    STORE_TEST(client_session_grant_revoke_delete),
    STORE_TEST(client_session_one_per_user),
    STORE_TEST(first_missing),
    STORE_TEST(connected_account_round_trip),
    STORE_TEST(connected_account_connect),
    STORE_TEST(connected_account_update_delete),
    STORE_TEST(connected_account_list),
    STORE_TEST(connect_webview_round_trip),
    STORE_TEST(connect_webview_ends_once),
    STORE_TEST(connect_webview_list_delete),
    STORE_TEST(user_identity_round_trip),
    STORE_TEST(user_identity_list_delete),
    STORE_TEST(device_round_trip),
    STORE_TEST(device_upsert),
    STORE_TEST(device_update_set_locked_delete),
    STORE_TEST(device_list_filters),
    STORE_TEST(scope_reads),
    STORE_TEST(scope_writes),
    STORE_TEST(transaction_commits),
    STORE_TEST(transaction_rolls_back),
    STORE_TEST(transaction_inner_rolls_back),
    STORE_TEST(transaction_survives_handled_conflict),
    STORE_TEST(delete_with_event_is_atomic),
    STORE_TEST(action_attempt_round_trip),
    STORE_TEST(action_attempt_leases),
    STORE_TEST(provider_links_leases),
    STORE_TEST(live_connect_tries),
    STORE_TEST(event_round_trip),
    STORE_TEST(event_list_filters),
    STORE_TEST(races),
    STORE_TEST(rolled_back_batch),
    STORE_TEST(open_refuses_newer_schema),
    STORE_TEST(open_unreachable_is_unavailable),
};

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    return run_on_each_backend(TESTS, COUNT_OF(TESTS), sqlite_group_setup, postgres_group_setup,
                               group_teardown);
}
