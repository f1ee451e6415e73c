/* latchkey-scale-seed: writes the data of the scale run (`make bench-scale`,
 * bench/scale.mjs) straight into a database through the public store calls:
 * one large workspace (1,000,000 devices in 200,000 connected accounts,
 * 100,000 client sessions by default) and a small one of the same shape
 * (1,000 devices), each with an API key, with client session tokens that a
 * `latchkey serve` on the same data dir (server secret) and database
 * authenticates. Prints the credentials to use as JSON on stdout; progress
 * and timings on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "admin.h"
#include "auth/secret.h"
#include "auth/tokens.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "store/store.h"

static const char USAGE[] =
    "usage: latchkey-scale-seed [--data-dir DIR] [--database URL] [options]\n"
    "  --data-dir DIR        where the server secret is (created as `latchkey serve` does; ./data)\n"
    "  --database URL        sqlite:PATH or postgres://... (sqlite:DIR/latchkey.db)\n"
    "  --devices N           devices of the large workspace (1000000)\n"
    "  --accounts A          its connected accounts (devices / 5)\n"
    "  --sessions S          its client sessions (devices / 10)\n"
    "  --grants K            connected accounts granted to each session (1: 5 devices each)\n"
    "  --small-devices N     devices of the small workspace, same shape (1000; 0: none)\n"
    "  --batch R             rows per transaction (500: on PostgreSQL each statement\n"
    "                        bumps its workspace's generation row, and one transaction\n"
    "                        of 10000 rows slows to a crawl on that row's versions)\n"
    "  --samples T           sessions whose tokens are printed, per workspace (8)\n"
    "LATCHKEY_SECRET, when set, is the server secret (as for the server).\n";

typedef struct options {
    const char *data_dir;
    const char *database;
    long devices, accounts, sessions, grants, small_devices, batch, samples;
} options;

/* The shape of one workspace: device d belongs to account d / per-account
 * (contiguous, as a connect makes them); session j holds the K accounts
 * spread evenly over all of them (so sessions are scattered over the whole
 * workspace, not bunched at its start). */
typedef struct shape {
    const char *label; /* "large", "small" */
    long devices, accounts, sessions, grants;
} shape;

typedef struct sample {
    long index;
    const char *client_session_id;
    const char *user_identifier_key;
    const char *token;
    long *accounts; /* account indexes, grants of them */
} sample;

typedef struct generation {
    store *s;
    const token_keys *keys;
    const shape *sh;
    arena *keep;  /* lives until the output is printed */
    arena *batch; /* emptied after each transaction */
    const char *workspace_id;
    char (*account_ids)[UUID_STR_LEN];
    long *samples_at;  /* session indexes sampled */
    sample *samples;
    long nsamples;
    /* account index -> the devices kept for output (sampled accounts only) */
    const char **first_device; /* per account; NULL unless sampled */
    json_t *sampled_devices;   /* account index (string) -> [device ids] */
    long from, to;             /* the current transaction's range */
    int64_t now;
    long rows;
} generation;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static long devices_of(const shape *sh, long account)
{
    long base = sh->devices / sh->accounts, extra = sh->devices % sh->accounts;
    return base + (account < extra ? 1 : 0);
}

/* The index of grant g of session j: evenly spread over the accounts when
 * there are enough of them for every grant; otherwise round the accounts
 * again (a session's own grants stay distinct: grants <= accounts). */
static long granted_account(const shape *sh, long j, long g)
{
    uint64_t slot = (uint64_t)j * (uint64_t)sh->grants + (uint64_t)g;
    uint64_t slots = (uint64_t)sh->sessions * (uint64_t)sh->grants;
    if (slots > (uint64_t)sh->accounts)
        return (long)(slot % (uint64_t)sh->accounts);
    return (long)(slot * (uint64_t)sh->accounts / slots);
}

static bool is_sampled_account(const generation *g, long account)
{
    for (long i = 0; i < g->nsamples; i++)
        for (long k = 0; k < g->sh->grants; k++)
            if (g->samples[i].accounts[k] == account)
                return true;
    return false;
}

static void report(const char *what, err e)
{
    fprintf(stderr, "latchkey-scale-seed: %s: %s (%s)\n", what, e.message ? e.message : "failed",
            e.type ? e.type : "?");
}

/* Accounts [from, to) and all their devices, in one transaction. */
static err make_accounts(store *s, void *ctx)
{
    generation *g = ctx;
    const shape *sh = g->sh;
    g->rows = 0;
    for (long a = g->from; a < g->to; a++) {
        uuid_v4(g->account_ids[a]);
        char email[64];
        snprintf(email, sizeof email, "%s-user%ld@example.com", sh->label, a);
        store_connected_account ca = {
            .connected_account_id = g->account_ids[a],
            .workspace_id = g->workspace_id,
            .provider = "august",
            .user_email = email,
            .provider_login = email,
            .created_at = g->now,
        };
        err e = store_connected_account_create(s, &ca);
        if (err_failed(e))
            return e;
        g->rows++;
        bool sampled = is_sampled_account(g, a);
        json_t *ids = sampled ? json_array() : NULL;
        long n = devices_of(sh, a);
        for (long k = 0; k < n; k++) {
            char id[UUID_STR_LEN], name[64], key[64];
            uuid_v4(id);
            snprintf(name, sizeof name, "Lock %ld.%ld", a, k);
            snprintf(key, sizeof key, "lock-%ld-%ld", a, k);
            store_device d = {
                .device_id = id,
                .workspace_id = g->workspace_id,
                .connected_account_id = g->account_ids[a],
                .device_type = "august_lock",
                .manufacturer = "august",
                .name = name,
                .model = "Smart Lock Pro",
                .online = true,
                .locked = 1,
                .battery_level = 0.5 + (double)(k % 5) / 10,
                .can_remotely_lock = true,
                .can_remotely_unlock = true,
                .provider_device_key = key,
                .created_at = g->now,
            };
            if (err_failed(e = store_device_create(s, &d))) {
                json_decref(ids);
                return e;
            }
            g->rows++;
            if (ids)
                json_array_append_new(ids, json_string(id));
        }
        if (ids) { /* a retried transaction sets it again */
            char k[32];
            snprintf(k, sizeof k, "%ld", a);
            json_object_set_new(g->sampled_devices, k, ids);
        }
    }
    return ERR_NONE;
}

static long sample_slot(const generation *g, long j)
{
    for (long i = 0; i < g->nsamples; i++)
        if (g->samples_at[i] == j)
            return i;
    return -1;
}

/* Sessions [from, to) with their grants, in one transaction. */
static err make_sessions(store *s, void *ctx)
{
    generation *g = ctx;
    const shape *sh = g->sh;
    g->rows = 0;
    const char **granted = arena_alloc(g->batch, (size_t)sh->grants * sizeof *granted);
    for (long j = g->from; j < g->to; j++) {
        char id[UUID_STR_LEN], uik[64];
        uuid_v4(id);
        snprintf(uik, sizeof uik, "%s_user_%ld", sh->label, j);
        const char *token = token_new_client_session(g->batch);
        char hash[TOKEN_HASH_HEX_LEN];
        token_hash(g->keys, token, hash);
        for (long k = 0; k < sh->grants; k++)
            granted[k] = g->account_ids[granted_account(sh, j, k)];
        store_client_session cs = {
            .client_session_id = id,
            .workspace_id = g->workspace_id,
            .user_identifier_key = uik,
            .token_sealed = token_seal(g->batch, g->keys, token),
            .created_at = g->now,
            .expires_at = g->now + 10LL * 365 * 24 * 3600 * 1000, /* outlives any run */
        };
        store_client_session_grants grants = {
            .connected_account_ids = {granted, (size_t)sh->grants},
        };
        err e = store_client_session_create(s, &cs, hash, &grants, NULL);
        if (err_failed(e))
            return e;
        g->rows += 1 + sh->grants;
        long slot = sample_slot(g, j);
        if (slot >= 0) {
            sample *x = &g->samples[slot];
            x->client_session_id = arena_strdup(g->keep, id);
            x->user_identifier_key = arena_strdup(g->keep, uik);
            x->token = arena_strdup(g->keep, token);
        }
    }
    return ERR_NONE;
}

/* Runs fn over [0, total) in transactions of about rows_per_item * step rows. */
static err in_batches(generation *g, err (*fn)(store *, void *), long total, long step,
                      const char *what, double *elapsed, long *rows)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double last_report = 0;
    *rows = 0;
    for (long from = 0; from < total; from += step) {
        g->from = from;
        g->to = from + step < total ? from + step : total;
        err e = store_transaction(g->s, fn, g);
        arena_free(g->batch);
        arena_init(g->batch);
        if (err_failed(e)) {
            report(what, e);
            return e;
        }
        *rows += g->rows;
        double t = seconds_since(&t0);
        if (t - last_report >= 5 || g->to == total) {
            last_report = t;
            fprintf(stderr, "  %s %s: %ld/%ld, %ld rows in %.1f s (%.0f rows/s)\n", g->sh->label,
                    what, g->to, total, *rows, t, (double)*rows / (t > 0 ? t : 1));
        }
    }
    *elapsed = seconds_since(&t0);
    return ERR_NONE;
}

/* One workspace of this shape; adds its description to out. */
static bool generate(store *s, const token_keys *keys, const shape *sh, long batch,
                     long nsamples, json_t *out)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    arena keep, scratch;
    arena_init(&keep);
    arena_init(&scratch);
    bool ok = false;
    generation g = {.s = s, .keys = keys, .sh = sh, .keep = &keep, .batch = &scratch,
                    .now = time_now_ms(), .sampled_devices = json_object()};

    store_workspace w;
    const char *key_id, *api_key;
    char name[64];
    snprintf(name, sizeof name, "Scale %s (%ld devices)", sh->label, sh->devices);
    err e = admin_workspace_create(s, &keep, name, true, &w);
    if (!err_failed(e))
        e = admin_api_key_create(s, keys, &keep, w.workspace_id, "scale bench", &key_id, &api_key);
    if (err_failed(e)) {
        report("workspace", e);
        goto done;
    }
    g.workspace_id = w.workspace_id;

    /* Sampled sessions: the first, the last, and evenly between. */
    g.nsamples = nsamples < sh->sessions ? nsamples : sh->sessions;
    g.samples_at = arena_alloc(&keep, (size_t)(g.nsamples ? g.nsamples : 1) * sizeof(long));
    g.samples = arena_zalloc(&keep, (size_t)(g.nsamples ? g.nsamples : 1) * sizeof(sample));
    for (long i = 0; i < g.nsamples; i++) {
        long j = g.nsamples == 1 ? 0 : (long)((int64_t)i * (sh->sessions - 1) / (g.nsamples - 1));
        g.samples_at[i] = j;
        g.samples[i].index = j;
        g.samples[i].accounts = arena_alloc(&keep, (size_t)sh->grants * sizeof(long));
        for (long k = 0; k < sh->grants; k++)
            g.samples[i].accounts[k] = granted_account(sh, j, k);
    }
    g.account_ids = calloc((size_t)sh->accounts, UUID_STR_LEN);
    if (!g.account_ids) {
        fprintf(stderr, "latchkey-scale-seed: out of memory\n");
        goto done;
    }

    long per_account = 1 + (sh->devices + sh->accounts - 1) / sh->accounts;
    long account_step = batch / per_account > 0 ? batch / per_account : 1;
    long session_step = batch / (1 + sh->grants) > 0 ? batch / (1 + sh->grants) : 1;
    double t_accounts = 0, t_sessions = 0;
    long rows_accounts = 0, rows_sessions = 0;
    if (err_failed(in_batches(&g, make_accounts, sh->accounts, account_step,
                              "accounts+devices", &t_accounts, &rows_accounts)) ||
        err_failed(in_batches(&g, make_sessions, sh->sessions, session_step, "client sessions",
                              &t_sessions, &rows_sessions)))
        goto done;
    double total = seconds_since(&t0);

    json_t *sessions = json_array(), *uiks = json_array();
    for (long i = 0; i < g.nsamples; i++) {
        sample *x = &g.samples[i];
        json_t *accounts = json_array(), *devices = json_array();
        for (long k = 0; k < sh->grants; k++) {
            json_array_append_new(accounts, json_string(g.account_ids[x->accounts[k]]));
            char ak[32];
            snprintf(ak, sizeof ak, "%ld", x->accounts[k]);
            json_t *held = json_object_get(g.sampled_devices, ak);
            if (held)
                json_array_extend(devices, held);
        }
        json_array_append_new(
            sessions, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o}", "index", (json_int_t)x->index,
                                "client_session_id", x->client_session_id,
                                "user_identifier_key", x->user_identifier_key, "token", x->token,
                                "connected_account_ids", accounts, "device_ids", devices));
        json_array_append_new(uiks, json_string(x->user_identifier_key));
    }
    json_t *timing = json_pack(
        "{s:f,s:f,s:f,s:I,s:I,s:f}", "accounts_and_devices_seconds", t_accounts,
        "client_sessions_seconds", t_sessions, "total_seconds", total, "rows_accounts_and_devices",
        (json_int_t)rows_accounts, "rows_client_sessions", (json_int_t)rows_sessions,
        "rows_per_second", (double)(rows_accounts + rows_sessions) / (total > 0 ? total : 1));
    json_object_set_new(
        out, sh->label,
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "workspace_id", w.workspace_id,
                  "api_key", api_key, "publishable_key", w.publishable_key, "devices",
                  (json_int_t)sh->devices, "connected_accounts", (json_int_t)sh->accounts,
                  "client_sessions", (json_int_t)sh->sessions, "grants_per_session",
                  (json_int_t)sh->grants, "sessions", sessions, "user_identifier_keys", uiks,
                  "generation", timing));
    fprintf(stderr, "  %s: %ld devices, %ld accounts, %ld sessions in %.1f s\n", sh->label,
            sh->devices, sh->accounts, sh->sessions, total);
    ok = true;
done:
    free(g.account_ids);
    json_decref(g.sampled_devices);
    arena_free(&scratch);
    arena_free(&keep);
    return ok;
}

static bool parse_long(const char *flag, const char *v, long min, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v ? v : "", &end, 10);
    if (!v || errno || *end || end == v || n < min) {
        fprintf(stderr, "latchkey-scale-seed: %s needs a number >= %ld\n%s", flag, min, USAGE);
        return false;
    }
    *out = n;
    return true;
}

static bool parse_options(int argc, char **argv, options *o)
{
    *o = (options){.data_dir = "./data", .devices = 1000000, .accounts = -1, .sessions = -1,
                   .grants = 1, .small_devices = 1000, .batch = 500, .samples = 8};
    for (int i = 1; i < argc; i += 2) { /* each flag takes a value */
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(f, "--data-dir") && v)
            o->data_dir = v;
        else if (!strcmp(f, "--database") && v)
            o->database = v;
        else if (!strcmp(f, "--devices"))
            ok = parse_long(f, v, 1, &o->devices);
        else if (!strcmp(f, "--accounts"))
            ok = parse_long(f, v, 1, &o->accounts);
        else if (!strcmp(f, "--sessions"))
            ok = parse_long(f, v, 1, &o->sessions);
        else if (!strcmp(f, "--grants"))
            ok = parse_long(f, v, 1, &o->grants);
        else if (!strcmp(f, "--small-devices"))
            ok = parse_long(f, v, 0, &o->small_devices);
        else if (!strcmp(f, "--batch"))
            ok = parse_long(f, v, 1, &o->batch);
        else if (!strcmp(f, "--samples"))
            ok = parse_long(f, v, 1, &o->samples);
        else {
            fputs(USAGE, stderr);
            return false;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* The small workspace keeps the large one's proportions. */
static shape scaled(const char *label, const options *o, long devices)
{
    double f = (double)devices / (double)o->devices;
    long accounts = o->accounts > 0 ? o->accounts : o->devices / 5;
    long sessions = o->sessions > 0 ? o->sessions : o->devices / 10;
    shape sh = {label, devices, (long)((double)accounts * f + 0.5),
                (long)((double)sessions * f + 0.5), o->grants};
    if (sh.accounts < 1)
        sh.accounts = 1;
    if (sh.sessions < 1)
        sh.sessions = 1;
    if (sh.grants > sh.accounts)
        sh.grants = sh.accounts;
    return sh;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_options(argc, argv, &o))
        return 2;
    if (sodium_init() < 0) {
        fprintf(stderr, "latchkey-scale-seed: libsodium cannot initialise\n");
        return 1;
    }
    if (mkdir(o.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "latchkey-scale-seed: cannot create %s: %s\n", o.data_dir, strerror(errno));
        return 1;
    }
    /* The server secret exactly as `latchkey serve` loads (or creates) it. */
    unsigned char secret[SERVER_SECRET_LEN];
    char why[512];
    if (!server_secret_load(getenv("LATCHKEY_SECRET"), o.data_dir, secret, why, sizeof why)) {
        fprintf(stderr, "latchkey-scale-seed: server secret: %s\n", why);
        return 1;
    }
    token_keys keys;
    token_keys_derive(secret, &keys);
    sodium_memzero(secret, sizeof secret);

    char default_url[4200];
    snprintf(default_url, sizeof default_url, "sqlite:%s/latchkey.db", o.data_dir);
    const char *url = o.database ? o.database : default_url;
    err e = ERR_NONE;
    store *s = store_open(url, &e);
    if (!s) {
        report("database", e);
        return 1;
    }

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *out = json_object();
    shape large = scaled("large", &o, o.devices);
    fprintf(stderr, "latchkey-scale-seed: %s; large: %ld devices, %ld accounts, %ld sessions "
                    "(%ld grants each); small: %ld devices; %ld rows per transaction\n",
            strncmp(url, "postgres", 8) == 0 ? "PostgreSQL" : "SQLite", large.devices,
            large.accounts, large.sessions, large.grants, o.small_devices, o.batch);
    bool ok = generate(s, &keys, &large, o.batch, o.samples, out);
    if (ok && o.small_devices > 0) {
        shape small = scaled("small", &o, o.small_devices);
        ok = generate(s, &keys, &small, o.batch, o.samples, out);
    }
    store_close(s);
    if (ok) {
        json_object_set_new(out, "backend",
                            json_string(strncmp(url, "postgres", 8) == 0 ? "postgres" : "sqlite"));
        json_object_set_new(out, "generation_seconds", json_real(seconds_since(&t0)));
        json_object_set_new(out, "rows_per_transaction", json_integer(o.batch));
        char *text = json_dumps(out, JSON_INDENT(2));
        puts(text);
        free(text);
    }
    json_decref(out);
    return ok ? 0 : 1;
}
