/* The fuzz targets' shared fixture (fuzz_support.h): a seeded SQLite store in
 * a temporary directory, the api_server and action worker over it, rolled
 * back requests, and input splitting. */
#include "fuzz_support.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "api/params.h"
#include "core/timeutil.h"
#include "jobs/action_worker.h"

static struct {
    char dir[PATH_MAX];
    char db[PATH_MAX + 16];
    store *store;
    links *links;
    action_worker *actions;
    api_server srv;
    bool verbose; /* FUZZ_VERBOSE set: print every exchange */
} env;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, why ? why : "failed");
    abort();
}

static void teardown(void)
{
    links_stop(env.links);
    action_worker_stop(env.actions);
    links_free(env.links);
    store_close(env.store);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char path[sizeof env.db + 8];
        snprintf(path, sizeof path, "%s%s", env.db, suffixes[i]);
        unlink(path);
    }
    rmdir(env.dir);
}

/* A webview that setup completes, for an account with a provider login. */
#define SETUP_WEBVIEW_ID "fuzz_webview_setup"
#define SETUP_WEBVIEW_TOKEN "FuzzWebviewToken000000000000000S"

/* The pending webviews of fuzz_support.h, and setup's, in the seed's workspace. */
static void add_webviews(arena *a)
{
    store_workspace w;
    err e = store_workspace_by_publishable_key(env.store, a, FUZZ_PUBLISHABLE_KEY, &w);
    if (err_failed(e))
        die("seed workspace", e.message);
    int64_t now = time_now_ms();
    const store_connect_webview webviews[] = {
        {.connect_webview_id = FUZZ_WEBVIEW_ID, .workspace_id = w.workspace_id,
         .status = "pending",
         .auth_token_sealed = token_seal(a, &env.srv.keys, FUZZ_WEBVIEW_TOKEN),
         .accepted_providers = "august,schlage,ecobee",
         .custom_redirect_url = "https://example.com/done?from=latchkey#top",
         .custom_redirect_failure_url = "https://example.com/failed",
         .device_selection_mode = "none", .created_at = now},
        {.connect_webview_id = FUZZ_WEBVIEW_SINGLE_ID, .workspace_id = w.workspace_id,
         .status = "pending",
         .auth_token_sealed = token_seal(a, &env.srv.keys, FUZZ_WEBVIEW_SINGLE_TOKEN),
         .accepted_providers = "yale", .device_selection_mode = "none", .created_at = now},
        {.connect_webview_id = SETUP_WEBVIEW_ID, .workspace_id = w.workspace_id,
         .status = "pending",
         .auth_token_sealed = token_seal(a, &env.srv.keys, SETUP_WEBVIEW_TOKEN),
         .accepted_providers = "nuki", .device_selection_mode = "none", .created_at = now},
    };
    for (size_t i = 0; i < sizeof webviews / sizeof *webviews; i++)
        if (err_failed(e = store_connect_webview_create(env.store, &webviews[i])))
            die("fuzz webview", e.message);
}

/* A request of setup's, kept: answered as the HTTP layer answers it (after
 * any wait for its action attempt), and required to succeed. */
static void setup_request(const char *path, const char *content_type, const char *body)
{
    arena a;
    arena_init(&a);
    api_request req = {.a = &a, .method = "POST", .path = path, .body = body,
                       .body_len = strlen(body), .content_type = content_type,
                       .creds = {.authorization = "Bearer " FUZZ_API_KEY}};
    api_response res;
    api_handle(&env.srv, &req, &res);
    if (res.wait.action_attempt_id) {
        api_wait w = res.wait;
        const api_wait *waits[] = {&w};
        uint64_t seen = 0;
        for (bool over = false; api_waits_over(&env.srv, waits, 1, &over), !over;)
            api_wait_progress(&env.srv, time_now_ms() + 200, &seen);
        api_wait_answer(&env.srv, &a, &w, &res);
    }
    if ((res.status != 200 && res.status != 303) || (res.body && strstr(res.body, "\"pending\"")))
        die(path, res.body);
    free(res.body);
    arena_free(&a);
}

/* What lists and gets should find beyond the seed: an account connected
 * through a webview (devices with a provider login, and the events of its
 * connection), and finished action attempts with their events. */
static void add_history(void)
{
    setup_request("/connect_webviews/view", "application/x-www-form-urlencoded",
                  "connect_webview_id=" SETUP_WEBVIEW_ID "&auth_token=" SETUP_WEBVIEW_TOKEN
                  "&provider=nuki&action=login&username=jane%40example.com&password=1234");
    setup_request("/locks/lock_door", "application/json",
                  "{\"device_id\":\"august_device_1\",\"sync\":true}");
    setup_request("/locks/unlock_door", "application/json",
                  "{\"device_id\":\"schlage_device_id\",\"sync\":true}");
}

/* libFuzzer calls this once, before any input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        die("libsodium", NULL);
    return 0;
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(env.dir, sizeof env.dir, "%s/latchkey-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(env.dir))
        die("temporary directory", env.dir);
    snprintf(env.db, sizeof env.db, "%s/latchkey.db", env.dir);
    /* A fixed secret: the same tokens and cursors in every run. */
    unsigned char secret[SERVER_SECRET_LEN];
    memset(secret, 0x5a, sizeof secret);
    token_keys_derive(secret, &env.srv.keys);

    arena a;
    arena_init(&a);
    err e = ERR_NONE;
    env.store = store_open(arena_sprintf(&a, "sqlite:%s", env.db), &e);
    if (!env.store)
        die("store", e.message);
    if (err_failed(e = admin_seed(env.store, &env.srv.keys, &a)))
        die("seed", e.message);
    add_webviews(&a);
    arena_free(&a);
    links_config lc = {.command_timeout_ms = 15000, .lease_ms = 10000};
    env.links = links_start(env.store, &env.srv.keys, &lc);
    if (!env.links)
        die("links job", NULL);
    env.actions = action_worker_start(env.store, env.links, 30); /* the default pace */
    if (!env.actions)
        die("action worker", NULL);
    env.srv.store = env.store;
    env.srv.public_url = "http://127.0.0.1:3020";
    env.srv.client_session_lifetime_ms = 24LL * 3600 * 1000;
    env.srv.actions = env.actions;
    env.srv.links = env.links;
    env.srv.action_delay_ms = 0;
    env.verbose = getenv("FUZZ_VERBOSE") != NULL;
    atexit(teardown);
    add_history();
}

const api_server *fuzz_server(void)
{
    if (!env.store)
        setup();
    return &env.srv;
}

typedef struct exchange {
    const api_request *req;
    api_response res;
} exchange;

static const err ROLL_BACK = {ERR_INTERNAL, "fuzz_roll_back", "undo the request"};

static err handle_then_undo(store *s, void *ctx)
{
    (void)s;
    exchange *x = ctx;
    api_handle(&env.srv, x->req, &x->res);
    if (x->res.wait.action_attempt_id) { /* answered now, as once the wait is over */
        api_wait w = x->res.wait;
        api_wait_answer(&env.srv, x->req->a, &w, &x->res);
    }
    return ROLL_BACK;
}

static void print_exchange(const exchange *x)
{
    const api_request *req = x->req;
    fprintf(stderr, "fuzz: %s %s (%zu query pairs, body %zu bytes) -> %d\n", req->method,
            req->path, req->nquery, req->body_len, x->res.status);
    for (size_t i = 0; i < req->nquery; i++)
        fprintf(stderr, "  query %s = %s\n", req->query[i].key, req->query[i].value);
    fprintf(stderr, "  body: %.*s\n  answer: %s\n", (int)req->body_len, req->body ? req->body : "",
            x->res.body ? x->res.body : "(none)");
}

void fuzz_api_call(const api_request *req)
{
    fuzz_server();
    exchange x = {.req = req};
    err e = store_transaction(env.store, handle_then_undo, &x);
    if (e.type != ROLL_BACK.type)
        die("transaction", e.message);
    bool broken = x.res.status == 500 || !x.res.body;
    if (broken || env.verbose)
        print_exchange(&x);
    if (broken)
        die("request", "answered 500 or without a body");
    free(x.res.body);
}

char *fuzz_line(fuzz_input *in, arena *a)
{
    if (in->size == 0)
        return NULL;
    const uint8_t *nl = memchr(in->data, '\n', in->size);
    size_t len = nl ? (size_t)(nl - in->data) : in->size;
    char *line = arena_strndup(a, (const char *)in->data, len);
    size_t used = len + (nl != NULL);
    in->data += used;
    in->size -= used;
    return line;
}

char *fuzz_rest(fuzz_input *in, arena *a, size_t *len)
{
    char *rest = arena_strndup(a, (const char *)in->data, in->size);
    *len = in->size;
    in->data += in->size;
    in->size = 0;
    return rest;
}

size_t fuzz_query(arena *a, const char *query, api_kv **kv)
{
    size_t n = 0, cap = 0;
    *kv = NULL;
    form_decode(a, query, strlen(query), kv, &n, &cap);
    return n;
}
