/* The query plans of the store's scoped reads on a large database, on each
 * backend (issue 9: cost follows the user, not the workspace).
 *
 * The store is opened on an empty database, as a node that was started
 * before its data came. latchkey-scale-seed (argv[1]) then writes one large
 * workspace and a small one; beside each connected account go a connect
 * webview (held by the sessions that hold the account), beside each device
 * an event and an action attempt, and three attempts due. Planner
 * statistics are then what a running node has: store_maintain on another
 * thread (SQLite's ANALYZE, which the store's other connections must take
 * up) taken when the devices and sessions were there but the webviews,
 * events and attempts were not yet (only the three due), then taken anew by
 * the look for tables that have outgrown them; PostgreSQL's autovacuum
 * (VACUUM ANALYZE here).
 *
 * Each case makes a store call as a client session, as an API key narrowed
 * to that session's user, or as an API key of the small workspace, with a
 * db_trace recording the statements the store runs; each statement is then
 * explained with the same values: on SQLite by EXPLAIN QUERY PLAN on the
 * store's connection, on PostgreSQL both the custom and the generic plan
 * of it as a prepared statement (the store prepares its statements once
 * per connection, and PostgreSQL may switch to the generic plan after five
 * runs). The plans must name the indexes the case expects, and must
 * neither read a large table whole (a sequential scan, an automatic index,
 * a walk in seq order) nor walk a workspace's rows through its index.
 * Deterministic: PostgreSQL's ANALYZE reads every row of tables this small
 * (under 30,000 rows), SQLite's reads up to 20,000 rows an index. */
#include "backend_fixtures.h"

#include <jansson.h>
#include <pthread.h>

#include "auth/tokens.h"
#include "core/timeutil.h"
#include "store/resource.h"

/* The large workspace's devices and client sessions (its accounts: a fifth
 * of the devices), fewer on PostgreSQL, whose generator is several times
 * slower; the small workspace's devices (the same shape); the page size of
 * the lists, and of client sessions. A page's sessions are looked up by
 * id, which a planner rightly does by reading the whole table once they
 * are a good share of it: the page keeps the share that a page of 500 has
 * of 100,000 sessions. */
enum {
    SQLITE_DEVICES = 50000,
    SQLITE_SESSIONS = 5000,
    POSTGRES_DEVICES = 20000,
    POSTGRES_SESSIONS = 10000,
    SMALL_DEVICES = 500,
    PAGE = 500,
    SESSIONS_PAGE = 10,
};

/* The server secret the generator and this test share. */
static const char SECRET_HEX[] =
    "6c6174636822b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5";

/* Tables a plan must never read whole. */
static const char *const LARGE[] = {
    "devices",         "connected_accounts",
    "client_sessions", "client_session_connected_accounts",
    "connect_webviews", "client_session_connect_webviews",
    "events",          "action_attempts",
    "noise_thresholds",
};

/* Names a SQLite plan scans that are not tables: subqueries in FROM. */
static const char *const DERIVED[] = {"held", "CONSTANT", "due", "due_pending", "due_again"};

enum { PLAN_MODES_MAX = 2, TEXT_MAX = 1 << 16 };

typedef struct plans {
    bool postgres;
    const char *seed;
    char dir[256]; /* the secret; the SQLite file */
    char url[512]; /* the database */
    pg_test_db pg_db;
    store *s;
    PGconn *pg; /* PostgreSQL: a connection of the test's own, to explain */
    json_t *seeded;
    token_keys keys;
    /* the large workspace's middle sampled session, and the small workspace */
    const char *workspace_id, *session_id, *user_key, *token, *account_id, *device_id;
    const char *small_workspace_id;
    size_t session_devices;
    arena a;
    sql_builder *stmts; /* what the store ran during the current call */
    size_t nstmts, cap;
} plans;

static plans *P;              /* the group's (see new_plans) */
static const char *seed_path; /* latchkey-scale-seed */

/* ---- what the store runs ---- */

/* Starts to as prefix and from's text, with from's values (copied into a). */
static void copy_statement(arena *a, sql_builder *to, const char *prefix, const sql_builder *from)
{
    sql_builder_init(to, a);
    sql_builder_appendf(to, "%s%s", prefix, sql_builder_text(from));
    for (size_t i = 0; i < from->nbinds; i++) {
        sql_bind v = from->binds[i];
        if (v.type == SQL_TEXT && !v.is_null)
            v.text = arena_strdup(a, v.text);
        to->binds = arena_grow(a, to->binds, to->nbinds, &to->bind_cap, sizeof v);
        to->binds[to->nbinds++] = v;
    }
}

/* The db_trace of a call. */
static void record(const sql_builder *q, void *ctx)
{
    plans *p = ctx;
    p->stmts = arena_grow(&p->a, p->stmts, p->nstmts, &p->cap, sizeof *p->stmts);
    copy_statement(&p->a, &p->stmts[p->nstmts++], "", q);
}

/* ---- plans ---- */

/* What the plans of one call use: index names, and what they must not do. */
typedef struct usage {
    char indexes[TEXT_MAX]; /* " name name ... " */
    char faults[TEXT_MAX];  /* one line each */
    char text[TEXT_MAX];    /* the statements and their plans, for a failure's message */
} usage;

static void add(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(char *buf, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, TEXT_MAX - n, fmt, ap);
    va_end(ap);
}

static bool in(const char *word, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, set[i]) == 0)
            return true;
    return false;
}

static void use_index(usage *u, const char *name)
{
    char key[132];
    snprintf(key, sizeof key, " %s ", name);
    if (!u->indexes[0])
        add(u->indexes, " ");
    if (!strstr(u->indexes, key))
        add(u->indexes, "%s ", name);
}

/* One line of SQLite's EXPLAIN QUERY PLAN. */
static void sqlite_line(usage *u, const char *line)
{
    add(u->text, "    %s\n", line);
    char name[128] = "";
    if (sscanf(line, "SCAN %127s", name) == 1 && !in(name, DERIVED, COUNT_OF(DERIVED)))
        add(u->faults, "reads %s whole: %s\n", name, line);
    if (strstr(line, "AUTOMATIC"))
        add(u->faults, "builds an index for the statement: %s\n", line);
    if (strstr(line, "PRIMARY KEY (rowid>") || strstr(line, "PRIMARY KEY (rowid<"))
        add(u->faults, "walks a table in seq order: %s\n", line);
    const char *idx = strstr(line, " INDEX ");
    if (idx && sscanf(idx, " INDEX %127s", name) == 1 && name[0] != '(')
        use_index(u, name);
}

static void read_plan_line(const db_row *r, void *ctx)
{
    arena a;
    arena_init(&a);
    sqlite_line(ctx, db_col_text(r, 3, &a));
    arena_free(&a);
}

static void explain_sqlite(plans *p, const sql_builder *q, usage *u)
{
    sql_builder b;
    copy_statement(&p->a, &b, "EXPLAIN QUERY PLAN ", q);
    err e = db_query(p->s->db, &b, read_plan_line, u);
    if (err_failed(e))
        fail_msg("%s: %s", sql_builder_text(&b), e.message);
}

/* One node of PostgreSQL's EXPLAIN (FORMAT JSON), and those below it. */
static void pg_node(usage *u, json_t *node, int depth)
{
    const char *type = json_string_value(json_object_get(node, "Node Type"));
    const char *rel = json_string_value(json_object_get(node, "Relation Name"));
    const char *index = json_string_value(json_object_get(node, "Index Name"));
    add(u->text, "    %*s%s%s%s%s%s\n", depth * 2, "", type ? type : "?", rel ? " on " : "",
        rel ? rel : "", index ? " using " : "", index ? index : "");
    if (type && rel && strcmp(type, "Seq Scan") == 0 && in(rel, LARGE, COUNT_OF(LARGE)))
        add(u->faults, "reads %s whole (Seq Scan)\n", rel);
    if (index)
        use_index(u, index);
    size_t i;
    json_t *child;
    json_array_foreach(json_object_get(node, "Plans"), i, child) pg_node(u, child, depth + 1);
}

/* q's text with each "?" outside quotes numbered "$1", "$2", ... */
static char *numbered(arena *a, const char *sql)
{
    char *out = arena_alloc(a, strlen(sql) * 6 + 1), *o = out;
    char quote = 0;
    int next = 1;
    for (const char *c = sql; *c; c++) {
        if (quote && *c == quote)
            quote = 0;
        else if (!quote && (*c == '\'' || *c == '"'))
            quote = *c;
        else if (!quote && *c == '?') {
            o += sprintf(o, "$%d", next++);
            continue;
        }
        *o++ = *c;
    }
    *o = '\0';
    return out;
}

static PGresult *pg_ok(plans *p, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", what, PQerrorMessage(p->pg));
    return r;
}

/* The plan of q as a prepared statement, with plan_cache_mode mode. */
static void explain_postgres(plans *p, const sql_builder *q, const char *mode, usage *u)
{
    static const Oid OIDS[] = {[SQL_TEXT] = 25, [SQL_INT] = 20, [SQL_REAL] = 701, [SQL_BOOL] = 16};
    Oid *types = arena_alloc(&p->a, (q->nbinds + 1) * sizeof *types);
    char *call = "EXPLAIN (FORMAT JSON) EXECUTE lk_plan";
    for (size_t i = 0; i < q->nbinds; i++) {
        const sql_bind *v = &q->binds[i];
        types[i] = OIDS[v->type];
        char number[32], *literal = NULL;
        if (!v->is_null) { /* quoted, and taken as the parameter's type */
            if (v->type == SQL_REAL)
                snprintf(number, sizeof number, "%.17g", v->f);
            else if (v->type != SQL_TEXT)
                snprintf(number, sizeof number, "%lld", (long long)v->i);
            const char *text = v->type == SQL_TEXT ? v->text : number;
            literal = PQescapeLiteral(p->pg, text, strlen(text));
        }
        call = arena_sprintf(&p->a, "%s%s%s", call, i ? ", " : "(", literal ? literal : "NULL");
        PQfreemem(literal);
    }
    if (q->nbinds) /* a statement without parameters is executed without parentheses */
        call = arena_sprintf(&p->a, "%s)", call);
    const char *sql = numbered(&p->a, sql_builder_text(q));
    PQclear(pg_ok(p, PQprepare(p->pg, "lk_plan", sql, (int)q->nbinds, types), sql));
    char set[64];
    snprintf(set, sizeof set, "SET plan_cache_mode = %s", mode);
    PQclear(pg_ok(p, PQexec(p->pg, set), set));
    PGresult *r = pg_ok(p, PQexec(p->pg, call), call);
    json_error_t error;
    json_t *plan = json_loads(PQgetvalue(r, 0, 0), 0, &error);
    PQclear(r);
    PQclear(pg_ok(p, PQexec(p->pg, "DEALLOCATE lk_plan"), "DEALLOCATE"));
    if (!plan)
        fail_msg("EXPLAIN of %s: %s", sql, error.text);
    add(u->text, "  %s plan:\n", mode);
    pg_node(u, json_object_get(json_array_get(plan, 0), "Plan"), 0);
    json_decref(plan);
}

/* ---- cases ---- */

typedef enum caller {
    AS_SESSION = 1,   /* a client session's token */
    AS_USER = 2,      /* an API key narrowed by user_identifier_key */
    /* An API key of the small workspace, which must not pay for the large
     * one (whose own lists walk most of the table anyway). On PostgreSQL
     * only its custom plan is checked: the generic plan of such a list
     * walks the table in seq order, which is why the store's connections
     * never use generic plans (plan_cache_mode, db_postgres.c). */
    AS_SMALL = 4,
} caller;

/* One store call as sc; *rows: how many it found. */
typedef err (*call_fn)(plans *p, const store_scope *sc, size_t *rows);

typedef struct plan_case {
    const char *name;
    call_fn call;
    int callers;
    /* Indexes the plans must name ("a|b": either) and must not use. */
    const char *expect[3];
    const char *forbid[4];
} plan_case;

static err devices_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_device *out;
    return store_device_list(p->s, &p->a, sc, &(store_device_filter){0},
                             &(store_page){0, PAGE}, &out, rows);
}

static err devices_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_device d;
    *rows = 1;
    return store_device_get(p->s, &p->a, sc, p->device_id, NULL, false, &d);
}

static err accounts_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_connected_account *out;
    return store_connected_account_list(p->s, &p->a, sc, NULL, &(store_page){0, PAGE}, &out,
                                        rows);
}

static err accounts_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_connected_account ca;
    *rows = 1;
    return store_connected_account_get(p->s, &p->a, sc, p->account_id, NULL, false, &ca);
}

static err webviews_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_connect_webview *out;
    return store_connect_webview_list(p->s, &p->a, sc, NULL, &(store_page){0, PAGE}, &out, rows);
}

static err attempts_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_action_attempt *out;
    return store_action_attempt_list(p->s, &p->a, sc, NULL, NULL, &(store_page){0, PAGE}, &out,
                                     rows);
}

static err attempts_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_action_attempt aa;
    *rows = 1;
    return store_action_attempt_get(p->s, &p->a, sc, arena_sprintf(&p->a, "aa-%s", p->device_id),
                                    &aa);
}

/* The action worker's claim: not scoped, the same for every caller. */
static err attempts_claim(plans *p, const store_scope *sc, size_t *rows)
{
    (void)sc;
    store_action_attempt *out;
    return store_action_attempt_claim(p->s, &p->a, "plans", time_now_ms(), 60000, 32, &out, rows);
}

static err events_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_event *out;
    return store_event_list(p->s, &p->a, sc, &(store_event_filter){0}, &(store_page){0, PAGE},
                            &out, rows);
}

static err events_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_event ev;
    *rows = 1;
    return store_event_get(p->s, &p->a, sc, arena_sprintf(&p->a, "ev-%s", p->device_id), &ev);
}

/* The action worker's step of moving thermostats: not scoped. */
static err thermostats_due(plans *p, const store_scope *sc, size_t *rows)
{
    (void)sc;
    store_device *out;
    int64_t first = 0;
    err e = store_thermostats_due(p->s, &p->a, time_now_ms(), 64, &out, rows);
    if (!err_failed(e))
        e = store_thermostats_first_moved(p->s, &first);
    assert_int_equal(first, 1);
    return e;
}

static err thresholds_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_noise_threshold *out;
    return store_noise_threshold_list(p->s, &p->a, sc, p->device_id, &out, rows);
}

static err thresholds_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_noise_threshold nt;
    *rows = 1;
    return store_noise_threshold_get(p->s, &p->a, sc, arena_sprintf(&p->a, "nt-%s", p->device_id),
                                     NULL, false, &nt);
}

/* client_sessions/get by id (a session) or by user_identifier_key (a user);
 * its device_count must be that of the session's accounts. */
static err sessions_get(plans *p, const store_scope *sc, size_t *rows)
{
    store_client_session cs;
    *rows = 1;
    err e = store_client_session_get(p->s, &p->a, sc->workspace_id, sc->client_session_id,
                                     sc->user_identifier_key, &cs);
    if (!err_failed(e))
        assert_int_equal(cs.device_count, p->session_devices);
    return e;
}

static err sessions_list(plans *p, const store_scope *sc, size_t *rows)
{
    store_client_session *out;
    return store_client_session_list(p->s, &p->a, sc->workspace_id,
                                     &(store_client_session_filter){0},
                                     &(store_page){0, SESSIONS_PAGE}, &out, rows);
}

/* What authentication reads for a client session's token. */
static err session_by_token(plans *p, const store_scope *sc, size_t *rows)
{
    (void)sc;
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(&p->keys, p->token, hash);
    store_client_session cs;
    *rows = 1;
    return store_client_session_by_token_hash(p->s, &p->a, hash, &cs);
}

#define DEVICES_ID "devices_id|sqlite_autoindex_devices_1"
#define ACCOUNTS_ID "connected_accounts_id|sqlite_autoindex_connected_accounts_1"
#define SCOPED (AS_SESSION | AS_USER)

static const plan_case CASES[] = {
    {"devices/list", devices_list, SCOPED, {"devices_account_workspace_seq"},
     {"devices_workspace_seq", "devices_pkey"}},
    {"devices/get", devices_get, SCOPED, {DEVICES_ID "|devices_account_workspace_seq"},
     {"devices_workspace_seq", "devices_pkey"}},
    {"connected_accounts/list", accounts_list, SCOPED, {ACCOUNTS_ID},
     {"connected_accounts_workspace", "connected_accounts_pkey"}},
    {"connected_accounts/get", accounts_get, SCOPED, {ACCOUNTS_ID},
     {"connected_accounts_workspace", "connected_accounts_pkey"}},
    {"connect_webviews/list", webviews_list, SCOPED,
     {"connect_webviews_id|sqlite_autoindex_connect_webviews_1"},
     {"connect_webviews_workspace", "connect_webviews_pkey"}},
    {"action_attempts/list", attempts_list, SCOPED, {"action_attempts_account_workspace_seq"},
     {"action_attempts_workspace", "action_attempts_pkey"}},
    {"action_attempts/get", attempts_get, SCOPED,
     {"action_attempts_id|sqlite_autoindex_action_attempts_1"},
     {"action_attempts_workspace", "action_attempts_pkey"}},
    {"action attempts due (the worker's claim)", attempts_claim, AS_SMALL,
     {"action_attempts_due", "action_attempts_lease|action_attempts_due"},
     {"action_attempts_workspace", "action_attempts_account_workspace_seq"}},
    {"thermostats due (the worker's step)", thermostats_due, AS_SMALL, {"devices_climate_moved"},
     {"devices_workspace_seq", "devices_pkey", "devices_account_workspace_seq"}},
    {"noise_thresholds/list", thresholds_list, SCOPED,
     {"noise_thresholds_device_seq|noise_thresholds_account_workspace_seq"},
     {"noise_thresholds_pkey"}},
    {"noise_thresholds/get", thresholds_get, SCOPED,
     {"noise_thresholds_id|sqlite_autoindex_noise_thresholds_1"}, {"noise_thresholds_pkey"}},
    {"events/list", events_list, SCOPED, {"events_account_workspace_seq"},
     {"events_workspace", "events_pkey"}},
    {"events/get", events_get, SCOPED, {"events_id|sqlite_autoindex_events_1"},
     {"events_workspace", "events_pkey"}},
    {"client_sessions/get", sessions_get, SCOPED,
     {"client_sessions_pkey|sqlite_autoindex_client_sessions_1|client_sessions_user",
      "devices_account_workspace_seq"},
     {"client_sessions_workspace_seq", "client_sessions_seq", "devices_workspace_seq",
      "devices_pkey"}},
    {"client_sessions/list", sessions_list, AS_SMALL,
     {"client_sessions_workspace_seq", "devices_account_workspace_seq"},
     {"client_sessions_seq", "devices_workspace_seq", "devices_pkey"}},
    {"client session by token", session_by_token, AS_SESSION,
     {"client_sessions_token_hash|sqlite_autoindex_client_sessions_2"},
     {"client_sessions_workspace_seq", "client_sessions_seq"}},
};

/* Whether the plans use index, or for "a|b" one of them. */
static bool uses(const usage *u, const char *alternatives)
{
    for (const char *a = alternatives; *a;) {
        size_t n = strcspn(a, "|");
        char key[132];
        snprintf(key, sizeof key, " %.*s ", (int)n, a);
        if (strstr(u->indexes, key))
            return true;
        a += n + (a[n] == '|');
    }
    return false;
}

static const char *caller_name(caller c)
{
    return c == AS_SESSION ? "client session"
           : c == AS_USER  ? "API key with user_identifier_key"
                           : "API key of the small workspace";
}

static void check(const plan_case *k, caller who, const char *mode, usage *u)
{
    for (size_t i = 0; i < COUNT_OF(k->expect) && k->expect[i]; i++)
        if (!uses(u, k->expect[i]))
            add(u->faults, "names none of %s\n", k->expect[i]);
    for (size_t i = 0; i < COUNT_OF(k->forbid) && k->forbid[i]; i++)
        if (uses(u, k->forbid[i]))
            add(u->faults, "walks the workspace or the table through %s\n", k->forbid[i]);
    if (!u->faults[0])
        return;
    fprintf(stderr, "%s as %s, %s plan:\n%s\nthe statements and their plans:\n%s\n", k->name,
            caller_name(who), mode, u->faults, u->text);
    fail_msg("%s as %s: the plan is not the intended one (above)", k->name, caller_name(who));
}

static void explain_case(void **state)
{
    const plan_case *k = *state;
    plans *p = P;
    for (caller who = AS_SESSION; who <= AS_SMALL; who <<= 1) {
        if (!(k->callers & who))
            continue;
        store_scope sc = {who == AS_SMALL ? p->small_workspace_id : p->workspace_id,
                          who == AS_SESSION ? p->session_id : NULL,
                          who == AS_USER ? p->user_key : NULL};
        p->nstmts = 0;
        size_t rows = 0;
        db_trace(p->s->db, record, p);
        err e = k->call(p, &sc, &rows);
        db_trace(p->s->db, NULL, NULL);
        if (err_failed(e))
            fail_msg("%s as %s: %s", k->name, caller_name(who), e.message);
        assert_true(rows > 0);
        assert_true(p->nstmts > 0);
        /* PostgreSQL: the custom and the generic plan (but see AS_SMALL) */
        const char *modes[PLAN_MODES_MAX] = {"force_custom_plan", "force_generic_plan"};
        size_t nmodes = p->postgres && who != AS_SMALL ? 2 : 1;
        for (size_t m = 0; m < nmodes; m++) {
            usage *u = calloc(1, sizeof *u);
            for (size_t i = 0; i < p->nstmts; i++) {
                add(u->text, "  %s\n", sql_builder_text(&p->stmts[i]));
                if (p->postgres)
                    explain_postgres(p, &p->stmts[i], modes[m], u);
                else
                    explain_sqlite(p, &p->stmts[i], u);
            }
            check(k, who, p->postgres ? modes[m] : "the", u);
            free(u);
        }
    }
}

/* ---- the database ---- */

/* Beside each account a connect webview that the sessions holding the
 * account hold too (the second way a session holds an account), beside
 * each device an event and an action attempt. */
static const char *const EXTRA[] = {
    /* three attempts due for the worker to claim, which are all the
     * attempts there are when the statistics are taken (see make_database) */
    "INSERT INTO action_attempts (action_attempt_id, workspace_id, device_id,"
    " connected_account_id, action_type, status, created_at, due_at)"
    " SELECT 'due-' || device_id, workspace_id, device_id, connected_account_id, 'LOCK_DOOR',"
    " 'pending', created_at, 0 FROM devices ORDER BY seq LIMIT 3",
    /* three thermostats moving their temperature, for the worker's step */
    "UPDATE devices SET climate_moved_at = 1"
    " WHERE seq IN (SELECT seq FROM devices ORDER BY seq LIMIT 3)",
    "INSERT INTO connect_webviews (connect_webview_id, workspace_id, connected_account_id,"
    " status, created_at) SELECT 'cw-' || connected_account_id, workspace_id,"
    " connected_account_id, 'authorized', created_at FROM connected_accounts",
    "INSERT INTO client_session_connect_webviews (client_session_id, connect_webview_id)"
    " SELECT client_session_id, 'cw-' || connected_account_id"
    " FROM client_session_connected_accounts",
    "INSERT INTO events (event_id, workspace_id, event_type, device_id, connected_account_id,"
    " created_at) SELECT 'ev-' || device_id, workspace_id, 'device.connected', device_id,"
    " connected_account_id, created_at FROM devices",
    "INSERT INTO action_attempts (action_attempt_id, workspace_id, device_id,"
    " connected_account_id, action_type, status, created_at, due_at, completed_at)"
    " SELECT 'aa-' || device_id, workspace_id, device_id, connected_account_id, 'LOCK_DOOR',"
    " 'success', created_at, created_at, created_at FROM devices",
    "INSERT INTO noise_thresholds (noise_threshold_id, workspace_id, device_id,"
    " connected_account_id, name, starts_daily_at, ends_daily_at, noise_threshold_decibels,"
    " created_at) SELECT 'nt-' || device_id, workspace_id, device_id, connected_account_id,"
    " 'quiet', '22:00:00', '06:00:00', 70, created_at FROM devices",
};

/* Runs the generator into p->url; its output into p->seeded. */
static int generate(plans *p, long devices, long sessions)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "'%s' --data-dir '%s' --database '%s' --devices %ld --sessions %ld"
             " --small-devices %d --samples 3 --batch 500",
             p->seed, p->dir, p->url, devices, sessions, SMALL_DEVICES);
    setenv("LATCHKEY_SECRET", SECRET_HEX, 1);
    print_message("[ BACKEND  ] %s\n", cmd);
    FILE *out = popen(cmd, "r");
    json_error_t error;
    p->seeded = out ? json_loadf(out, 0, &error) : NULL;
    int status = out ? pclose(out) : -1;
    if (!p->seeded || status != 0) {
        fprintf(stderr, "test_query_plans: %s: exit status %d, output %s\n", cmd, status,
                p->seeded ? "read" : error.text);
        return -1;
    }
    json_t *large = json_object_get(p->seeded, "large");
    json_t *sample = json_array_get(json_object_get(large, "sessions"), 1);
    json_t *devices_of = json_object_get(sample, "device_ids");
    p->workspace_id = json_string_value(json_object_get(large, "workspace_id"));
    p->small_workspace_id =
        json_string_value(json_object_get(json_object_get(p->seeded, "small"), "workspace_id"));
    p->session_id = json_string_value(json_object_get(sample, "client_session_id"));
    p->user_key = json_string_value(json_object_get(sample, "user_identifier_key"));
    p->token = json_string_value(json_object_get(sample, "token"));
    p->account_id =
        json_string_value(json_array_get(json_object_get(sample, "connected_account_ids"), 0));
    p->device_id = json_string_value(json_array_get(devices_of, 0));
    p->session_devices = json_array_size(devices_of);
    return p->device_id && p->small_workspace_id ? 0 : -1;
}

static bool maintain_when_outdated; /* how maintain_main calls store_maintain */

static void *maintain_main(void *ctx)
{
    plans *p = ctx;
    return err_failed(store_maintain(p->s, maintain_when_outdated)) ? p : NULL;
}

/* store_maintain on another thread, whose connection runs ANALYZE; the
 * store's other connections must take its statistics up. */
static int maintain(plans *p, bool when_outdated)
{
    maintain_when_outdated = when_outdated;
    pthread_t t;
    void *failed = p;
    if (pthread_create(&t, NULL, maintain_main, p) == 0)
        pthread_join(t, &failed);
    return failed ? -1 : 0;
}

/* Opens the store on the empty database, generates the data, adds the rows
 * beside it, and brings the statistics up to date. */
static int make_database(plans *p, long devices, long sessions)
{
    err e = ERR_NONE;
    if (!(p->s = store_open(p->url, &e))) {
        fprintf(stderr, "test_query_plans: store_open(%s): %s\n", p->url, e.message);
        return -1;
    }
    if (generate(p, devices, sessions))
        return -1;
    /* The statistics are first taken while the events, webviews and
     * attempts are few (three attempts, all alike), as by a node that
     * analyzed the database before they grew; then the look a running node
     * takes every few seconds must find them outdated and take them anew. */
    for (size_t i = 0; i < COUNT_OF(EXTRA); i++) {
        if (err_failed(e = db_execf(p->s->db, NULL, EXTRA[i], ""))) {
            fprintf(stderr, "test_query_plans: %s: %s\n", EXTRA[i], e.message);
            return -1;
        }
        if (i == 0 && maintain(p, false))
            return -1;
    }
    if (maintain(p, true))
        return -1;
    return p->postgres ? pg_test_exec(p->url, "VACUUM ANALYZE") : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    plans *p = P;
    if (!p)
        return 0;
    store_close(p->s);
    PQfinish(p->pg);
    json_decref(p->seeded);
    arena_free(&p->a);
    int rc = 0;
    if (p->postgres)
        rc = pg_test_db_drop(&p->pg_db);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    rc |= system(cmd);
    free(p);
    P = NULL;
    return rc;
}

/* The group's state is P, not *state: cmocka would hand a group state to
 * each test in place of its case. A fresh temporary directory, the
 * secret's keys. */
static plans *new_plans(bool postgres)
{
    plans *p = calloc(1, sizeof *p);
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof p->dir, "%s/lk-plans-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p->dir)) {
        free(p);
        return NULL;
    }
    P = p;
    p->postgres = postgres;
    p->seed = seed_path;
    arena_init(&p->a);
    unsigned char secret[SERVER_SECRET_LEN];
    sodium_hex2bin(secret, sizeof secret, SECRET_HEX, strlen(SECRET_HEX), NULL, NULL, NULL);
    token_keys_derive(secret, &p->keys);
    return p;
}

static int sqlite_group_setup(void **state)
{
    plans *p = new_plans(false);
    if (!p)
        return -1;
    snprintf(p->url, sizeof p->url, "sqlite:%s/plans.db", p->dir);
    if (make_database(p, SQLITE_DEVICES, SQLITE_SESSIONS)) {
        group_teardown(state);
        return -1;
    }
    return 0;
}

static int postgres_group_setup(void **state)
{
    plans *p = new_plans(true);
    if (!p)
        return -1;
    int created = pg_test_db_create(&p->pg_db, "lk_plans");
    snprintf(p->url, sizeof p->url, "%s", p->pg_db.url);
    if (created || make_database(p, POSTGRES_DEVICES, POSTGRES_SESSIONS) ||
        PQstatus(p->pg = PQconnectdb(p->url)) != CONNECTION_OK) {
        group_teardown(state);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_query_plans PATH-OF-latchkey-scale-seed\n");
        return 2;
    }
    seed_path = argv[1];
    if (sodium_init() < 0)
        return 1;
    struct CMUnitTest tests[COUNT_OF(CASES)];
    for (size_t i = 0; i < COUNT_OF(CASES); i++)
        tests[i] = (struct CMUnitTest){CASES[i].name, explain_case, NULL, NULL,
                                       (void *)&CASES[i]};
    return run_on_each_backend(tests, COUNT_OF(tests), sqlite_group_setup, postgres_group_setup,
                               group_teardown);
}
