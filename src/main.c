/* latchkey's command line: `serve` runs the API server; `workspace create`
 * and `api-key create` administer the database directly; `routes` prints
 * the route table. */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "admin.h"
#include "api/api.h"
#include "api/cache.h"
#include "api/router.h"
#include "auth/secret.h"
#include "config.h"
#include "http/server.h"
#include "jobs/action_worker.h"
#include "jobs/links.h"

typedef struct app {
    config cfg;
    store *store;
    token_keys keys;
    arena a;
} app;

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "latchkey: %s: %s\n", what, why);
    return 1;
}

static bool make_dir(const char *path, char *why, size_t whylen)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                snprintf(why, whylen, "cannot create %s: %s", buf, strerror(errno));
                return false;
            }
            *p = saved;
            if (!saved)
                return true;
        }
    }
}

/* Data directory, server secret and store: what every command needs. */
static int app_open(app *ap)
{
    char why[512];
    if (sodium_init() < 0)
        return fail("libsodium", "cannot initialise");
    if (!make_dir(ap->cfg.data_dir, why, sizeof why))
        return fail("data directory", why);
    unsigned char secret[SERVER_SECRET_LEN];
    if (!server_secret_load(getenv("LATCHKEY_SECRET"), ap->cfg.data_dir, secret, why, sizeof why))
        return fail("server secret", why);
    token_keys_derive(secret, &ap->keys);
    sodium_memzero(secret, sizeof secret);
    arena_init(&ap->a);
    const char *url = ap->cfg.database_url
                          ? ap->cfg.database_url
                          : arena_sprintf(&ap->a, "sqlite:%s/latchkey.db", ap->cfg.data_dir);
    err e = ERR_NONE;
    ap->store = store_open(url, &e);
    if (!ap->store)
        return fail("database", e.message ? e.message : "cannot open");
    return 0;
}

static void app_close(app *ap)
{
    store_close(ap->store);
    arena_free(&ap->a);
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2));
    puts(s);
    free(s);
    json_decref(o);
}

static int cmd_workspace_create(app *ap)
{
    if (!ap->cfg.name)
        return fail("workspace create", "--name is required");
    store_workspace w;
    err e = admin_workspace_create(ap->store, &ap->a, ap->cfg.name, ap->cfg.sandbox, &w);
    if (err_failed(e))
        return fail("workspace create", e.message);
    print_json(json_pack("{s:s,s:s,s:b,s:s}", "workspace_id", w.workspace_id, "name", w.name,
                         "is_sandbox", w.is_sandbox, "publishable_key", w.publishable_key));
    return 0;
}

static int cmd_api_key_create(app *ap)
{
    if (!ap->cfg.workspace_id)
        return fail("api-key create", "--workspace is required");
    const char *id, *key;
    err e = admin_api_key_create(ap->store, &ap->keys, &ap->a, ap->cfg.workspace_id,
                                 ap->cfg.name ? ap->cfg.name : "API key", &id, &key);
    if (err_failed(e))
        return fail("api-key create", e.message);
    print_json(json_pack("{s:s,s:s,s:s}", "api_key_id", id, "workspace_id",
                         ap->cfg.workspace_id, "api_key", key));
    return 0;
}

/* On an empty database: a sandbox workspace and an API key, shown once. */
static int bootstrap_sandbox(app *ap, const char *public_url)
{
    int64_t n = 0;
    err e = store_workspace_count(ap->store, &n);
    if (err_failed(e))
        return fail("database", e.message);
    if (n > 0)
        return 0;
    store_workspace w;
    const char *key_id, *key;
    if (err_failed(e = admin_workspace_create(ap->store, &ap->a, "Sandbox", true, &w)) ||
        err_failed(e = admin_api_key_create(ap->store, &ap->keys, &ap->a, w.workspace_id,
                                            "Sandbox API key", &key_id, &key)))
        return fail("sandbox workspace", e.message);
    printf("\nlatchkey created a sandbox workspace. Its API key is shown only now: keep it.\n\n"
           "  workspace_id     %s\n"
           "  API key          %s\n"
           "  publishable key  %s\n\n"
           "Create a client session for one of your users (your backend does this):\n\n"
           "  curl -s %s/client_sessions/create \\\n"
           "    -H 'Authorization: Bearer %s' \\\n"
           "    -H 'Content-Type: application/json' \\\n"
           "    -d '{\"user_identifier_key\": \"user_123\"}'\n\n"
           "Then call the API as that user with the session's token:\n\n"
           "  curl -s %s/devices/list -H 'Authorization: Bearer <client_session.token>'\n\n"
           "Or with the official SDK (npm install @seamapi/http):\n\n"
           "  import { SeamHttp } from '@seamapi/http'\n"
           "  const seam = SeamHttp.fromApiKey('%s', { endpoint: '%s' })\n"
           "  const { token } = await seam.clientSessions.getOrCreate({ user_identifier_key: 'user_123' })\n"
           "  const user = SeamHttp.fromClientSessionToken(token, { endpoint: '%s' })\n"
           "  console.log(await user.devices.list())\n\n",
           w.workspace_id, key, w.publishable_key, public_url, key, public_url, key, public_url,
           public_url);
    fflush(stdout);
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* glibc's allocator: blocks of 256 KiB or more (request bodies up to 1 MiB,
 * large lists) always straight from mmap, so they go back to the system
 * when freed instead of staying in a thread's arena (glibc would otherwise
 * raise the threshold after the first such block). Below it stay SQLite's
 * bulk page-cache allocations of temporary tables (about 90 KiB), made on
 * every query with a UNION: from mmap they cost a system call each.
 * Capping the arenas (M_ARENA_MAX) was measured too: 15 % fewer requests/s.
 * Free memory at the top of an arena stays there until the once-a-second
 * malloc_trim (wait_for_signal) rather than going back at every free: with
 * the fixed threshold glibc trimmed past 128 KiB, an madvise system call
 * that took 4.5 % of the CPU of client_sessions/create. */
static void configure_allocator(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

/* Seconds between two store_maintain calls, and between two looks at
 * whether the data has outgrown its statistics. */
enum { MAINTAIN_SECONDS = 300, GROWTH_LOOK_SECONDS = 5 };

/* Waits for SIGTERM or SIGINT; meanwhile, every second, hands the
 * allocator's free pages back to the system, so the server's memory
 * follows what it holds rather than its busiest moment, and every few
 * minutes (and within seconds of a table doubling) keeps the store's
 * query planning current as the data grows. */
static int wait_for_signal(const sigset_t *sigs, store *s)
{
    const struct timespec every = {.tv_sec = 1};
    for (unsigned tick = 1;; tick++) {
        int sig = sigtimedwait(sigs, NULL, &every);
        if (sig > 0)
            return sig;
        malloc_trim(0);
        if (tick % GROWTH_LOOK_SECONDS == 0) {
            err e = store_maintain(s, tick % MAINTAIN_SECONDS != 0);
            if (err_failed(e))
                fprintf(stderr, "latchkey: store maintenance: %s\n", e.message);
        }
    }
}

static int cmd_serve(app *ap)
{
    const config *cfg = &ap->cfg;
    const char *public_url = cfg->public_url
                                 ? cfg->public_url
                                 : arena_sprintf(&ap->a, "http://%s:%u", cfg->host, cfg->port);
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/')
        n--;
    public_url = arena_strndup(&ap->a, public_url, n);
    if (cfg->seed) {
        err e = admin_seed(ap->store, &ap->keys, &ap->a);
        if (err_failed(e))
            return fail("seed", e.message);
    } else if (bootstrap_sandbox(ap, public_url) != 0) {
        return 1;
    }
    raise_fd_limit();
    configure_allocator();
    /* Signals are taken by this thread alone, in wait_for_signal. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    links_config lc = {.command_timeout_ms = cfg->command_timeout_ms,
                       .lease_ms = cfg->link_lease_ms};
    links *live = links_start(ap->store, &ap->keys, &lc);
    if (!live)
        return fail("serve", "cannot start the links job");
    action_worker *actions = action_worker_start(ap->store, live, cfg->climate_degrees_per_hour);
    if (!actions) {
        links_stop(live);
        links_free(live);
        return fail("serve", "cannot start the action worker");
    }
    api_server api = {
        .store = ap->store,
        .keys = ap->keys,
        .public_url = public_url,
        .client_session_lifetime_ms = (int64_t)cfg->client_session_lifetime_seconds * 1000,
        .actions = actions,
        .links = live,
        .action_delay_ms = cfg->action_delay_ms,
        .cache = answer_cache_new((size_t)cfg->cache_mib << 20),
    };
    http_config hc = {
        .host = cfg->host,
        .port = (uint16_t)cfg->port,
        .threads = cfg->threads,
        .connection_limit = cfg->connection_limit,
        .timeout_seconds = cfg->timeout_seconds,
        .body_limit = 1 << 20,
        .url_limit = 16 * 1024,
        .query_param_limit = 1500, /* parsed into the request's arena */
        .header_limit = 32 * 1024,
        /* libmicrohttpd 0.9.75 zeroes its connection memory, all of it and
         * half again, on every request of a kept-alive connection: no more
         * than a head at both limits (48 KiB) needs, with libmicrohttpd's
         * entry for each header and the response's head. */
        .connection_memory = 64 * 1024,
    };
    char why[512];
    http_server *http = http_start(&hc, &api, why, sizeof why);
    if (!http) {
        links_stop(live);
        action_worker_stop(actions);
        links_free(live);
        answer_cache_free(api.cache);
        return fail("serve", why);
    }
    fprintf(stderr, "latchkey: listening on http://%s:%u (public URL %s)\n", cfg->host,
            http_port(http), public_url);
    int sig = wait_for_signal(&sigs, ap->store);
    fprintf(stderr, "latchkey: %s, finishing requests in flight\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_stop(http, 10000);
    links_stop(live); /* its accounts' leases go to other nodes at once */
    action_worker_stop(actions); /* attempts still pending stay in the store */
    links_free(live);
    answer_cache_free(api.cache);
    fprintf(stderr, "latchkey: stopped\n");
    return 0;
}

/* The route table as JSON: [{path, methods, credentials, page}, ...].
 * Needs no data directory or database. */
static int cmd_routes(void)
{
    static const struct {
        unsigned kind;
        const char *name;
    } CREDS[] = {
        {CRED_API_KEY, "api_key"},
        {CRED_CLIENT_SESSION, "client_session"},
        {CRED_PUBLISHABLE_KEY, "publishable_key"},
    };
    json_t *routes = json_array();
    for (size_t i = 0; i < router_count(); i++) {
        const route *r = router_at(i);
        json_t *methods = json_array(), *creds = json_array();
        for (unsigned bit = 1; bit <= METHOD_DELETE; bit <<= 1)
            if (r->methods & bit)
                json_array_append_new(methods, json_string(router_method_name(bit)));
        for (size_t k = 0; k < sizeof CREDS / sizeof *CREDS; k++)
            if (r->creds & CREDS[k].kind)
                json_array_append_new(creds, json_string(CREDS[k].name));
        json_array_append_new(routes, json_pack("{s:s,s:o,s:o,s:b}", "path", r->path, "methods",
                                                methods, "credentials", creds, "page", r->page));
    }
    print_json(routes);
    if (fflush(stdout) != 0 || ferror(stdout))
        return fail("routes", "cannot write to standard output");
    return 0;
}

int main(int argc, char **argv)
{
    /* Everything latchkey writes (database, server secret) is its owner's alone. */
    umask(077);
    if (argc < 2) {
        config_usage(argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "routes") == 0) {
        if (argc == 2)
            return cmd_routes();
        config_usage(argv[0]);
        return 2;
    }
    int first = 2;
    int (*command)(app *) = NULL;
    if (strcmp(argv[1], "serve") == 0) {
        command = cmd_serve;
    } else if (argc >= 3 && strcmp(argv[1], "workspace") == 0 && strcmp(argv[2], "create") == 0) {
        command = cmd_workspace_create;
        first = 3;
    } else if (argc >= 3 && strcmp(argv[1], "api-key") == 0 && strcmp(argv[2], "create") == 0) {
        command = cmd_api_key_create;
        first = 3;
    } else {
        config_usage(argv[0]);
        return 2;
    }
    app ap = {0};
    char why[512];
    if (!config_load(&ap.cfg, argc, argv, first, why, sizeof why)) {
        fprintf(stderr, "latchkey: %s\n", why);
        config_usage(argv[0]);
        return 2;
    }
    int rc = app_open(&ap);
    if (rc == 0)
        rc = command(&ap);
    if (ap.store)
        app_close(&ap);
    return rc;
}
