/* The home_assistant provider (live.h): a Home Assistant server, through its
 * REST API (libcurl) and its WebSocket API (libwebsockets). Devices are its
 * lock.* entities (GET <base>/api/states); their changes come as
 * state_changed events on the WebSocket; commands go as call_service
 * messages on the same WebSocket (lock.lock / lock.unlock).
 *
 * One connection: GET <base>/api/ (is it there, does it take the token?),
 * then the WebSocket <base>/api/websocket: auth, subscribe_events
 * state_changed, and once subscribed GET <base>/api/states for the device
 * list (after the subscription, so no change falls between the two). The
 * session is reported up only then. Everything runs on the session's thread
 * (live_util.h); send() only queues under mu and wakes the thread. */
#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json_text.h"
#include "providers/live.h"
#include "providers/live_util.h"

enum {
    LOOP_MS = 200,              /* how often the thread looks at stopping */
    CONNECT_TIMEOUT_MS = 5000,  /* REST: connecting */
    REQUEST_TIMEOUT_MS = 10000, /* REST: the whole request */
    WS_TIMEOUT_S = 10,          /* WebSocket: connecting and its handshake */
    LOGIN_MS = 20000,           /* WebSocket: until subscribed */
    PING_MS = 30000,
    SILENCE_MS = 60000, /* no message at all for this long: the connection is lost */
    EXPECT_MS = 60000,  /* how long a state we asked for counts as ours */
    MESSAGE_MAX = 1 << 20,
    CHECK_MAX = 64 << 10,
    STATES_MAX = 64 << 20,
    TOKEN_MAX = 1024,
    QUEUE_MAX = 256,
};

static const char BAD_TOKEN[] = "Home Assistant refused the access token.";
static const char LOST[] = "The connection to Home Assistant was lost.";
static const char PROTOCOL[] = "latchkey-home-assistant";

static const live_field FIELDS[] = {
    {"url", "Home Assistant address", "url", "http://homeassistant.local:8123", NULL, true},
    {"token", "Long-lived access token", "password", NULL, NULL, true},
};

/* A lock.* entity of the last device list. entity_id is read by senders
 * (under mu); the rest is the session thread's own. */
typedef struct ha_lock {
    char *entity_id;
    char *state;         /* its last state, or NULL */
    int settled;         /* 1 locked, 0 unlocked, -1 not known: what it last was */
    int expect;          /* what a call of ours asked for: 1, 0, or -1 none */
    int64_t expect_until;
    char *context_id;    /* the context Home Assistant gave our last call on it */
} ha_lock;

/* A command send() queued for the thread. */
typedef struct ha_command {
    char *entity_id;
    bool lock;
    struct ha_command *next;
} ha_command;

/* A call_service sent, until its result. */
typedef struct ha_call {
    int id;
    char *entity_id;
    bool lock;
    struct ha_call *next;
} ha_call;

/* A WebSocket message waiting to be written (LWS_PRE bytes first). */
typedef struct ws_out {
    struct ws_out *next;
    size_t len;
    bool secret;
    unsigned char data[];
} ws_out;

enum phase { PHASE_CONNECTING, PHASE_AUTH, PHASE_SUBSCRIBING, PHASE_READY };

struct live_session {
    live_link link; /* thread, stop flag, sink guard (live_util.h) */
    live_address addr;
    char *token;
    char *base;     /* http(s)://host:port<path> */
    char *ws_path;  /* <path>/api/websocket */
    char *ws_host;  /* the Host header: host[:port] */
    struct curl_slist *headers; /* holds the token */
    CURL *curl;
    CURLM *multi;
    /* Shared with senders, under mu; written by the session thread. */
    pthread_mutex_t mu;
    bool connected; /* commands can be taken */
    ha_lock *locks;
    size_t lock_count;
    ha_command *queue, **queue_tail;
    size_t queued;
    struct lws_context *ctx; /* for lws_cancel_service; NULL while none */
    /* One WebSocket connection: the session thread's own. */
    struct lws *wsi;
    lws_sorted_usec_list_t tick;
    enum phase phase;
    bool ended, listed, need_refresh;
    char *why; /* why the connection ended, when it is not LOST */
    int next_id, subscribe_id;
    int64_t last_rx, last_ping, ready_by;
    ws_out *out, **out_tail;
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_skip;
    ha_call *calls;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool is_lock_id(const char *id) { return id && strncmp(id, "lock.", 5) == 0 && id[5]; }

/* ---- settings ---- */

/* RFC 3986 path characters (percent-encoded ones as they are). */
static bool valid_path(const char *p)
{
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-._~!$&'()*+,;=:@/%", *p))
            return false;
    return true;
}

static bool ha_settings(arena *a, const char *const *values, const char **settings,
                        const char **login, const char **why)
{
    live_address addr;
    if (!live_address_parse(values[0], "http", 8123, "https", 443, &addr)) {
        *why = "The address must look like http://homeassistant.local:8123 or "
               "https://ha.example.com.";
        return false;
    }
    const char *host = arena_strdup(a, addr.host), *path = arena_strdup(a, addr.path);
    int port = addr.port;
    bool tls = addr.tls;
    live_address_free(&addr);
    if (!valid_path(path)) {
        *why = "The address's path may hold only letters, digits and - . _ ~ / "
               "(other characters percent-encoded).";
        return false;
    }
    /* What is pasted often comes with a space or a line break around it. */
    const char *t = values[1] ? values[1] : "";
    size_t len = strlen(t);
    while (len && isspace((unsigned char)*t))
        t++, len--;
    while (len && isspace((unsigned char)t[len - 1]))
        len--;
    if (len == 0) {
        *why = "Enter a long-lived access token (in Home Assistant: your profile, "
               "Security, Long-lived access tokens).";
        return false;
    }
    if (len > TOKEN_MAX) {
        *why = "That access token is too long (at most 1024 characters).";
        return false;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f) {
            *why = "The access token must not hold spaces, line breaks or other special "
                   "characters.";
            return false;
        }
    const char *token = arena_strndup(a, t, len);
    json_t *o = json_pack("{s:s, s:i, s:b, s:s, s:s}", "host", host, "port", port, "tls", tls,
                          "path", path, "token", token);
    *settings = json_text(a, o);
    if (!*settings) {
        *why = "The settings could not be saved. Try again.";
        return false;
    }
    *login = arena_sprintf(a, "%s://%s:%d%s", tls ? "https" : "http", host, port, path);
    return true;
}

/* ---- the lists ---- */

static void free_locks(ha_lock *locks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(locks[i].entity_id);
        free(locks[i].state);
        free(locks[i].context_id);
    }
    free(locks);
}

static ha_lock *find_lock(const live_session *s, const char *entity_id)
{
    for (size_t i = 0; i < s->lock_count; i++)
        if (strcmp(s->locks[i].entity_id, entity_id) == 0)
            return &s->locks[i];
    return NULL;
}

static void free_commands(ha_command *c)
{
    while (c) {
        ha_command *next = c->next;
        free(c->entity_id);
        free(c);
        c = next;
    }
}

static void free_calls(ha_call *c)
{
    while (c) {
        ha_call *next = c->next;
        free(c->entity_id);
        free(c);
        c = next;
    }
}

static void free_out(ws_out *m)
{
    while (m) {
        ws_out *next = m->next;
        if (m->secret)
            explicit_bzero(m->data, LWS_PRE + m->len);
        free(m);
        m = next;
    }
}

/* ---- REST (libcurl) ---- */

typedef struct body {
    char *data;
    size_t len, cap, max;
} body;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    body *b = ud;
    size_t add = size * n;
    if (add > b->max - b->len)
        return 0; /* too large: CURLE_WRITE_ERROR */
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* Why a request failed, for people (never the token). */
static char *curl_why(const live_session *s, CURLcode rc)
{
    const char *h = s->addr.host;
    int port = s->addr.port;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return live_sprintf("The host name %s could not be found.", h);
    case CURLE_COULDNT_CONNECT:
        return live_sprintf("Nothing answers at %s:%d (is Home Assistant running?).", h, port);
    case CURLE_OPERATION_TIMEDOUT:
        return live_sprintf("Home Assistant at %s:%d did not answer in time.", h, port);
    case CURLE_PEER_FAILED_VERIFICATION:
        return live_sprintf("The TLS certificate of %s could not be verified (self-signed, "
                            "or made for another name?).", h);
    case CURLE_SSL_CONNECT_ERROR:
        return live_sprintf("The TLS connection to %s:%d failed (does it serve https?).", h, port);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return live_sprintf("%s:%d does not answer like a web server (http instead of https, "
                            "or the wrong port?).", h, port);
    case CURLE_WRITE_ERROR:
        return live_sprintf("Home Assistant's answer was too large.");
    default:
        return live_sprintf("Home Assistant at %s:%d cannot be reached.", h, port);
    }
}

/* GETs <base><path> as JSON. NULL when it failed, after reporting the
 * session down (unless stopping). Looks at stopping every LOOP_MS. */
static json_t *rest_get(live_session *s, const char *path, size_t max)
{
    if (!s->curl)
        s->curl = curl_easy_init();
    if (!s->multi)
        s->multi = curl_multi_init();
    char *url = live_sprintf("%s%s", s->base, path);
    if (!s->curl || !s->multi || !url) {
        free(url);
        live_link_refused(&s->link, LIVE_UNREACHABLE, "latchkey could not start a request.");
        return NULL;
    }
    CURL *c = s->curl;
    body b = {.max = max};
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L); /* the system's CA store */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "latchkey");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = CURLE_OK;
    bool stopped = false;
    if (curl_multi_add_handle(s->multi, c) != CURLM_OK) {
        rc = CURLE_FAILED_INIT;
    } else {
        int running = 1;
        while (running) {
            if (curl_multi_perform(s->multi, &running) != CURLM_OK) {
                rc = CURLE_FAILED_INIT;
                break;
            }
            if (!running)
                break;
            if ((stopped = live_link_stopping(&s->link)))
                break;
            curl_multi_poll(s->multi, NULL, 0, LOOP_MS, NULL);
        }
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(s->multi, &left)))
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == c)
                rc = msg->data.result;
        curl_multi_remove_handle(s->multi, c);
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    free(url);
    if (stopped) {
        free(b.data);
        return NULL;
    }
    json_t *out = NULL;
    char *why = NULL;
    live_down down = LIVE_UNREACHABLE;
    if (rc != CURLE_OK) {
        why = curl_why(s, rc);
    } else if (status == 401 || status == 403) {
        down = LIVE_BAD_CREDENTIALS;
    } else if (status >= 300 && status < 400) {
        why = live_sprintf("Home Assistant's address answered with a redirect (HTTP %ld): "
                           "give the address it redirects to (https?).", status);
    } else if (status == 404) {
        why = live_sprintf("Home Assistant answered HTTP 404: no Home Assistant API there "
                           "(check the address and its path).");
    } else if (status < 200 || status > 299) {
        why = live_sprintf("Home Assistant answered HTTP %ld.", status);
    } else if (!(out = json_loadb(b.data ? b.data : "", b.len, 0, NULL))) {
        why = live_sprintf("The answer at %s%s is not Home Assistant's (not JSON).", s->base, path);
    }
    free(b.data);
    if (!out)
        live_link_refused(&s->link, down,
                          down == LIVE_BAD_CREDENTIALS ? BAD_TOKEN
                          : why                        ? why
                                                       : "Home Assistant cannot be reached.");
    free(why);
    return out;
}

/* ---- what the states say ---- */

static int locked_of(const char *state)
{
    return streq(state, "locked") ? 1 : streq(state, "unlocked") ? 0 : -1;
}

static double battery_of(json_t *attributes)
{
    json_t *b = json_object_get(attributes, "battery_level");
    double v = json_is_number(b) ? json_number_value(b) : -1;
    return v >= 0 && v <= 100 ? v / 100.0 : -1;
}

/* How the lock was operated at the door, as Seam's lock event methods, from
 * the lock's changed_by (integrations set it as they like: "Manual",
 * "keypad", "Auto Relock", a user's name...). A change made through Home
 * Assistant (a user, an automation) carries its service call's context
 * (user_id, parent_id); changed_by then is what it was before. */
static const char *method_of(json_t *attributes, json_t *context)
{
    if (json_string_value(json_object_get(context, "user_id")) ||
        json_string_value(json_object_get(context, "parent_id")))
        return "unknown";
    const char *by = json_string_value(json_object_get(attributes, "changed_by"));
    if (!by || !*by)
        return "unknown";
    char lower[64];
    size_t n = 0;
    for (; by[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)tolower((unsigned char)by[n]);
    lower[n] = '\0';
    static const char *const KEYCODE[] = {"keypad", "keycode", "code", "pin", "rfid", "fingerprint"};
    static const char *const AUTOMATIC[] = {"auto"};
    static const char *const MANUAL[] = {"manual", "thumb", "key", "one_touch", "one touch", "button"};
    for (size_t i = 0; i < sizeof KEYCODE / sizeof *KEYCODE; i++)
        if (strstr(lower, KEYCODE[i]))
            return "keycode";
    for (size_t i = 0; i < sizeof AUTOMATIC / sizeof *AUTOMATIC; i++)
        if (strstr(lower, AUTOMATIC[i]))
            return "automatic";
    for (size_t i = 0; i < sizeof MANUAL / sizeof *MANUAL; i++)
        if (strstr(lower, MANUAL[i]))
            return "manual";
    return "unknown";
}

/* Reports a lock's state object; from_event: a state_changed (which may be
 * an operation at the door, or the outcome of our own call). */
static void report_state(live_session *s, ha_lock *l, json_t *state_obj, bool from_event)
{
    const char *state = json_string_value(json_object_get(state_obj, "state"));
    if (!state)
        state = "unknown";
    json_t *attributes = json_object_get(state_obj, "attributes");
    live_state st = {.key = l->entity_id,
                     .locked = locked_of(state),
                     .online = strcmp(state, "unavailable") != 0,
                     .battery_level = battery_of(attributes),
                     .jammed = strcmp(state, "jammed") == 0};
    if (from_event) {
        json_t *context = json_object_get(state_obj, "context");
        const char *context_id = json_string_value(json_object_get(context, "id"));
        bool ours = streq(context_id, l->context_id);
        if (l->expect >= 0 && now_ms() > l->expect_until)
            l->expect = -1;
        if (l->expect >= 0 && (st.locked == l->expect || st.jammed)) {
            ours = true;
            l->expect = -1;
        }
        if (st.locked >= 0 && st.locked != l->settled && !ours)
            st.method = method_of(attributes, context);
    }
    if (st.locked >= 0)
        l->settled = st.locked;
    char *copy = strdup(state);
    if (copy) {
        free(l->state);
        l->state = copy;
    }
    live_link_state(&s->link, &st);
}

/* GETs the states and reports the lock entities: first (the connection is
 * up now) every lock's state; later (an entity came or went) only the new
 * ones'. False when it failed (reported). */
static bool fetch_states(live_session *s, bool first)
{
    json_t *list = rest_get(s, "/api/states", STATES_MAX);
    if (!list)
        return false;
    if (!json_is_array(list)) {
        json_decref(list);
        live_link_refused(&s->link, LIVE_UNREACHABLE,
                          "Home Assistant's state list could not be read.");
        return false;
    }
    size_t n = json_array_size(list), count = 0;
    ha_lock *locks = calloc(n ? n : 1, sizeof *locks);
    provider_device *devices = calloc(n ? n : 1, sizeof *devices);
    json_t **states = calloc(n ? n : 1, sizeof *states);
    bool *fresh = calloc(n ? n : 1, sizeof *fresh);
    if (!locks || !devices || !states || !fresh) {
        free(locks);
        free(devices);
        free(states);
        free(fresh);
        json_decref(list);
        live_link_refused(&s->link, LIVE_UNREACHABLE, "latchkey ran out of memory.");
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *id = json_string_value(json_object_get(e, "entity_id"));
        bool seen = false;
        for (size_t j = 0; j < count && !seen && id; j++)
            seen = strcmp(locks[j].entity_id, id) == 0;
        if (!is_lock_id(id) || seen || !(locks[count].entity_id = strdup(id)))
            continue;
        ha_lock *l = &locks[count];
        const ha_lock *had = find_lock(s, id);
        l->settled = -1;
        l->expect = -1;
        if (had && !first) { /* what this connection knows of it stays */
            l->state = had->state ? strdup(had->state) : NULL;
            l->settled = had->settled;
            l->expect = had->expect;
            l->expect_until = had->expect_until;
            l->context_id = had->context_id ? strdup(had->context_id) : NULL;
        }
        json_t *attributes = json_object_get(e, "attributes");
        const char *state = json_string_value(json_object_get(e, "state"));
        const char *name = json_string_value(json_object_get(attributes, "friendly_name"));
        provider_device *d = &devices[count];
        d->key = l->entity_id;
        d->name = name && *name ? name : l->entity_id;
        d->model = json_string_value(json_object_get(attributes, "model"));
        d->online = !streq(state, "unavailable");
        d->locked = locked_of(state);
        d->battery_level = battery_of(attributes);
        d->can_remotely_lock = d->can_remotely_unlock = true;
        states[count] = e;
        fresh[count] = first || !had;
        count++;
    }
    pthread_mutex_lock(&s->mu);
    ha_lock *old = s->locks;
    size_t old_count = s->lock_count;
    s->locks = locks;
    s->lock_count = count;
    if (first)
        s->connected = true;
    pthread_mutex_unlock(&s->mu);
    free_locks(old, old_count);
    s->listed = true;
    if (first)
        live_link_up(&s->link);
    live_link_devices(&s->link, devices, count);
    for (size_t k = 0; k < count; k++)
        if (fresh[k])
            report_state(s, &s->locks[k], states[k], false);
    free(devices);
    free(states);
    free(fresh);
    json_decref(list);
    return true;
}

/* ---- the WebSocket (libwebsockets) ---- */

/* Queues a message (taking o) and asks to write when the socket can. */
static void ws_send(live_session *s, json_t *o, bool secret)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return;
    size_t len = strlen(text);
    ws_out *m = malloc(sizeof *m + LWS_PRE + len);
    if (m) {
        m->next = NULL;
        m->len = len;
        m->secret = secret;
        memcpy(m->data + LWS_PRE, text, len);
        *s->out_tail = m;
        s->out_tail = &m->next;
    }
    if (secret)
        explicit_bzero(text, len);
    free(text);
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

static void on_state_changed(live_session *s, json_t *data)
{
    const char *id = json_string_value(json_object_get(data, "entity_id"));
    if (!is_lock_id(id))
        return;
    json_t *new_state = json_object_get(data, "new_state");
    ha_lock *l = find_lock(s, id);
    if (!l || !json_is_object(new_state)) {
        /* Added or removed: the whole list again (fetch_states). */
        if (l || json_is_object(new_state))
            s->need_refresh = true;
        return;
    }
    report_state(s, l, new_state, true);
}

static void on_result(live_session *s, json_t *m)
{
    json_t *idj = json_object_get(m, "id");
    int id = json_is_integer(idj) ? (int)json_integer_value(idj) : -1;
    bool success = json_is_true(json_object_get(m, "success"));
    if (id == s->subscribe_id && s->phase == PHASE_SUBSCRIBING) {
        if (success) {
            s->phase = PHASE_READY; /* the loop fetches the states now */
        } else {
            live_link_refused(&s->link, LIVE_UNREACHABLE,
                              "Home Assistant refused to send latchkey its state changes.");
            s->ended = true;
        }
        return;
    }
    for (ha_call **p = &s->calls; *p; p = &(*p)->next) {
        ha_call *c = *p;
        if (c->id != id)
            continue;
        *p = c->next;
        ha_lock *l = find_lock(s, c->entity_id);
        if (success && l) {
            json_t *context = json_object_get(json_object_get(m, "result"), "context");
            const char *context_id = json_string_value(json_object_get(context, "id"));
            char *copy = context_id ? strdup(context_id) : NULL;
            if (copy) {
                free(l->context_id);
                l->context_id = copy;
            }
        } else if (!success) {
            if (l)
                l->expect = -1;
            json_t *err = json_object_get(m, "error");
            const char *message = json_string_value(json_object_get(err, "message"));
            /* The attempt fails now, with Home Assistant's words. */
            char why[300];
            snprintf(why, sizeof why, "Home Assistant refused to %s it: %.200s",
                     c->lock ? "lock" : "unlock", message ? message : "no reason given");
            live_state st = {.key = c->entity_id, .locked = -1, .online = -1,
                             .battery_level = -1, .refused = why, .refused_lock = c->lock};
            live_link_state(&s->link, &st);
        }
        free(c->entity_id);
        free(c);
        return;
    }
}

/* One message of Home Assistant's; false to end the connection. */
static bool on_message(live_session *s, json_t *m)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!type)
        return true;
    if (strcmp(type, "auth_required") == 0) {
        s->phase = PHASE_AUTH;
        ws_send(s, json_pack("{s:s, s:s}", "type", "auth", "access_token", s->token), true);
    } else if (strcmp(type, "auth_invalid") == 0) {
        live_link_refused(&s->link, LIVE_BAD_CREDENTIALS, BAD_TOKEN);
        s->ended = true;
        return false;
    } else if (strcmp(type, "auth_ok") == 0) {
        s->phase = PHASE_SUBSCRIBING;
        s->subscribe_id = s->next_id++;
        ws_send(s, json_pack("{s:i, s:s, s:s}", "id", s->subscribe_id, "type", "subscribe_events",
                             "event_type", "state_changed"), false);
    } else if (strcmp(type, "result") == 0) {
        on_result(s, m);
    } else if (strcmp(type, "event") == 0 && s->listed) {
        /* Before the list: the list (fetched after) already shows it. */
        json_t *event = json_object_get(m, "event");
        if (streq(json_string_value(json_object_get(event, "event_type")), "state_changed"))
            on_state_changed(s, json_object_get(event, "data"));
    }
    return !s->ended;
}

/* A whole received message; false to end the connection. */
static bool on_text(live_session *s, const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, 0, NULL);
    bool go_on = true;
    if (json_is_array(m)) { /* coalesced messages */
        size_t i;
        json_t *one;
        json_array_foreach(m, i, one) {
            if (go_on)
                go_on = on_message(s, one);
        }
    } else if (json_is_object(m)) {
        go_on = on_message(s, m);
    }
    json_decref(m);
    return go_on;
}

static int on_receive(live_session *s, struct lws *wsi, const void *in, size_t len)
{
    s->last_rx = now_ms();
    if (!s->rx_skip && len > MESSAGE_MAX - s->rx_len) {
        fprintf(stderr, "latchkey: home_assistant: a message over 1 MiB was skipped\n");
        s->rx_skip = true;
    }
    if (!s->rx_skip && len) {
        if (s->rx_len + len > s->rx_cap) {
            size_t cap = s->rx_cap ? s->rx_cap : 8192;
            while (cap < s->rx_len + len)
                cap *= 2;
            char *r = realloc(s->rx, cap);
            if (!r)
                return -1;
            s->rx = r;
            s->rx_cap = cap;
        }
        memcpy(s->rx + s->rx_len, in, len);
        s->rx_len += len;
    }
    if (!lws_is_final_fragment(wsi))
        return 0;
    bool skipped = s->rx_skip;
    size_t n = s->rx_len;
    s->rx_skip = false;
    s->rx_len = 0;
    return skipped || on_text(s, s->rx, n) ? 0 : -1; /* -1: close it */
}

static int on_writable(live_session *s, struct lws *wsi)
{
    ws_out *m = s->out;
    if (!m)
        return 0;
    s->out = m->next;
    if (!s->out)
        s->out_tail = &s->out;
    m->next = NULL;
    int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
    bool whole = n >= 0 && (size_t)n >= m->len;
    free_out(m);
    if (!whole)
        return -1;
    if (s->out)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Whether libwebsockets' connection error is about TLS ("SSL error: ...",
 * "...certificate..."). */
static bool tls_error(const char *error)
{
    char lower[160];
    size_t n = 0;
    for (; error[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)tolower((unsigned char)error[n]);
    lower[n] = '\0';
    return strstr(lower, "ssl") || strstr(lower, "tls") || strstr(lower, "cert");
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    (void)user;
    live_session *s = lws_context_user(lws_get_context(wsi));
    if (!s)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!s->why && in && tls_error(in))
            s->why = live_sprintf("The TLS connection to Home Assistant's WebSocket API at %s "
                                  "failed (its certificate could not be verified?).",
                                  s->addr.host);
        if (!s->why)
            s->why = live_sprintf("Home Assistant's WebSocket API (%s) could not be opened. Behind "
                                  "a reverse proxy, the proxy must pass WebSockets.",
                                  s->ws_path);
        s->ended = true;
        s->wsi = NULL;
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->last_rx = now_ms();
        if (s->out)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(s, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writable(s, wsi);
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (wsi == s->wsi) {
            s->wsi = NULL;
            s->ended = true;
        }
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols PROTOCOLS[] = {
    {PROTOCOL, ws_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Wakes lws_service at least every LOOP_MS (it would sleep until the next
 * event otherwise), so that the loop sees stopping. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
    live_session *s = (live_session *)(void *)((char *)sul - offsetof(live_session, tick));
    if (s->ctx)
        lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, LOOP_MS * LWS_US_PER_MS);
}

/* Starts the WebSocket connection in a context of its own; false when it
 * cannot even start. */
static bool ws_open(live_session *s)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = PROTOCOLS;
    info.gid = -1;
    info.uid = -1;
    info.options = s->addr.tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.user = s;
    info.fd_limit_per_thread = 16; /* one socket, the cancel pipe: no table of ulimit's size */
    info.timeout_secs = WS_TIMEOUT_S;
    info.connect_timeout_secs = WS_TIMEOUT_S;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        s->why = live_sprintf("latchkey could not start a WebSocket client.");
        return false;
    }
    int64_t now = now_ms();
    s->phase = PHASE_CONNECTING;
    s->ended = s->listed = s->need_refresh = false;
    s->next_id = 1;
    s->subscribe_id = -1;
    s->last_rx = s->last_ping = now;
    s->ready_by = now + LOGIN_MS;
    pthread_mutex_lock(&s->mu);
    s->ctx = ctx;
    pthread_mutex_unlock(&s->mu);
    lws_sul_schedule(ctx, 0, &s->tick, on_tick, LOOP_MS * LWS_US_PER_MS);
    struct lws_client_connect_info cci;
    memset(&cci, 0, sizeof cci);
    cci.context = ctx;
    cci.address = s->addr.host;
    cci.port = s->addr.port;
    cci.ssl_connection = s->addr.tls ? LCCSCF_USE_SSL : 0;
    cci.path = s->ws_path;
    cci.host = s->ws_host;
    cci.ietf_version_or_minus_one = -1;
    cci.local_protocol_name = PROTOCOL;
    cci.pwsi = &s->wsi;
    if (!lws_client_connect_via_info(&cci)) {
        s->wsi = NULL;
        s->ended = true;
        if (!s->why)
            s->why = live_sprintf("Home Assistant's WebSocket API at %s:%d could not be reached.",
                                  s->addr.host, s->addr.port);
    }
    return true;
}

static void ws_close(live_session *s)
{
    pthread_mutex_lock(&s->mu);
    struct lws_context *ctx = s->ctx;
    s->ctx = NULL; /* no lws_cancel_service from send() on it any more */
    pthread_mutex_unlock(&s->mu);
    if (ctx)
        lws_context_destroy(ctx); /* closes the socket: its callbacks run now */
    memset(&s->tick, 0, sizeof s->tick); /* was on the destroyed context's list */
    s->wsi = NULL;
    free_out(s->out);
    s->out = NULL;
    s->out_tail = &s->out;
    free(s->rx);
    s->rx = NULL;
    s->rx_len = s->rx_cap = 0;
    s->rx_skip = false;
    free_calls(s->calls);
    s->calls = NULL;
}

/* A command taken from the queue. A lock already in the state asked for
 * (Home Assistant would change nothing, so report no change), or
 * unavailable (it would skip the lock), is answered at once, unless a call
 * of ours on it is still under way (its state is about to change). */
static void run_command(live_session *s, ha_lock *l, bool lock)
{
    if (l->expect >= 0 && now_ms() > l->expect_until)
        l->expect = -1;
    bool there = streq(l->state, lock ? "locked" : "unlocked");
    if (l->expect < 0 && (there || streq(l->state, "unavailable"))) {
        live_state st = {.key = l->entity_id, .locked = there ? lock : -1, .online = there,
                         .battery_level = -1};
        live_link_state(&s->link, &st);
        return;
    }
    ha_call *c = calloc(1, sizeof *c);
    if (!c || !(c->entity_id = strdup(l->entity_id))) {
        free(c);
        return;
    }
    c->id = s->next_id++;
    c->lock = lock;
    c->next = s->calls;
    s->calls = c;
    l->expect = lock;
    l->expect_until = now_ms() + EXPECT_MS;
    ws_send(s, json_pack("{s:i, s:s, s:s, s:s, s:{s:s}}", "id", c->id, "type", "call_service",
                         "domain", "lock", "service", lock ? "lock" : "unlock", "target",
                         "entity_id", l->entity_id), false);
}

static void run_commands(live_session *s)
{
    pthread_mutex_lock(&s->mu);
    ha_command *list = s->queue;
    s->queue = NULL;
    s->queue_tail = &s->queue;
    s->queued = 0;
    pthread_mutex_unlock(&s->mu);
    for (ha_command *c = list; c; c = c->next) {
        ha_lock *l = find_lock(s, c->entity_id);
        if (l)
            run_command(s, l, c->lock);
    }
    free_commands(list);
}

/* One connection, until it ends; false when it could not be made. */
static bool connect_once(live_link *link)
{
    live_session *s = (live_session *)link;
    json_t *check = rest_get(s, "/api/", CHECK_MAX);
    if (!check)
        return false;
    json_decref(check);
    bool made = ws_open(s);
    while (made && !s->ended && !live_link_stopping(link)) {
        if (lws_service(s->ctx, 0) < 0)
            break;
        if (s->ended || live_link_stopping(link))
            break;
        if (s->phase == PHASE_READY && !s->listed) {
            if (!fetch_states(s, true))
                break;
        } else if (s->need_refresh) {
            s->need_refresh = false;
            if (!fetch_states(s, false))
                break;
        }
        if (s->listed)
            run_commands(s);
        int64_t now = now_ms();
        if (s->phase == PHASE_READY && now - s->last_ping >= PING_MS) {
            s->last_ping = now;
            ws_send(s, json_pack("{s:i, s:s}", "id", s->next_id++, "type", "ping"), false);
        }
        if (now - s->last_rx >= SILENCE_MS)
            break;
        if (s->phase != PHASE_READY && now >= s->ready_by) {
            if (!s->why)
                s->why = live_sprintf("Home Assistant did not finish the WebSocket login in time.");
            break;
        }
    }
    /* Home Assistant closed it: it does so when the token is revoked, and
     * while it restarts; the REST API tells which (and reports it). */
    bool closed = made && s->ended && s->phase == PHASE_READY && !live_link_refused_now(link);
    made = made && s->phase >= PHASE_AUTH;
    ws_close(s);
    pthread_mutex_lock(&s->mu);
    s->connected = false;
    free_commands(s->queue);
    s->queue = NULL;
    s->queue_tail = &s->queue;
    s->queued = 0;
    free_locks(s->locks, s->lock_count);
    s->locks = NULL;
    s->lock_count = 0;
    pthread_mutex_unlock(&s->mu);
    s->listed = false;
    if (closed && !live_link_stopping(link))
        json_decref(rest_get(s, "/api/", CHECK_MAX));
    if (!live_link_stopping(link) && !live_link_refused_now(link))
        live_link_refused(link, LIVE_UNREACHABLE, s->why ? s->why : LOST);
    free(s->why);
    s->why = NULL;
    return made;
}

/* ---- the session ---- */

static void session_free(live_link *link)
{
    live_session *s = (live_session *)link;
    ws_close(s);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    for (struct curl_slist *h = s->headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(s->headers);
    free_commands(s->queue);
    free_locks(s->locks, s->lock_count);
    free(s->why);
    pthread_mutex_destroy(&s->mu);
    if (s->token) {
        explicit_bzero(s->token, strlen(s->token));
        free(s->token);
    }
    free(s->base);
    free(s->ws_path);
    free(s->ws_host);
    live_address_free(&s->addr);
    free(s);
}

static void lws_log(int level, const char *line)
{
    (void)level;
    size_t n = strlen(line);
    fprintf(stderr, "latchkey: home_assistant: libwebsockets: %s%s", line,
            n && line[n - 1] == '\n' ? "" : "\n");
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lws_set_log_level(LLL_ERR, lws_log);
}

static live_session *ha_open(const char *settings, const live_sink *sink)
{
    pthread_once(&global_once, global_init);
    json_t *o = json_loads(settings, 0, NULL);
    const char *host = json_string_value(json_object_get(o, "host"));
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *token = json_string_value(json_object_get(o, "token"));
    json_int_t port = json_integer_value(json_object_get(o, "port"));
    bool tls = json_is_true(json_object_get(o, "tls"));
    live_session *s = calloc(1, sizeof *s);
    if (!s || !host || !token || !*token || port < 1 || port > 65535) {
        free(s);
        json_decref(o);
        return NULL;
    }
    if (!path)
        path = "";
    pthread_mutex_init(&s->mu, NULL);
    s->queue_tail = &s->queue;
    s->out_tail = &s->out;
    s->addr.host = strdup(host);
    s->addr.path = strdup(path);
    s->addr.port = (int)port;
    s->addr.tls = tls;
    s->token = strdup(token);
    s->base = live_sprintf("%s://%s:%d%s", tls ? "https" : "http", host, (int)port, path);
    s->ws_path = live_sprintf("%s/api/websocket", path);
    s->ws_host = port == (tls ? 443 : 80) ? strdup(host) : live_sprintf("%s:%d", host, (int)port);
    char *auth = live_sprintf("Authorization: Bearer %s", token);
    json_decref(o);
    if (auth) {
        struct curl_slist *h = curl_slist_append(NULL, auth);
        struct curl_slist *h2 = h ? curl_slist_append(h, "Accept: application/json") : NULL;
        s->headers = h2 ? h2 : h;
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (!s->addr.host || !s->addr.path || !s->token || !s->base || !s->ws_path || !s->ws_host ||
        !s->headers || !s->headers->next) {
        session_free(&s->link);
        return NULL;
    }
    if (!live_link_start(&s->link, sink, connect_once, session_free))
        return NULL;
    return s;
}

static bool ha_send(live_session *s, const char *device_key, bool lock)
{
    ha_command *c = calloc(1, sizeof *c);
    if (!c || !(c->entity_id = strdup(device_key))) {
        free(c);
        return false;
    }
    c->lock = lock;
    pthread_mutex_lock(&s->mu);
    bool ok = s->connected && s->queued < QUEUE_MAX && find_lock(s, device_key);
    if (ok) {
        *s->queue_tail = c;
        s->queue_tail = &c->next;
        s->queued++;
        if (s->ctx)
            lws_cancel_service(s->ctx); /* thread-safe: wakes the thread's lws_service */
    }
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        free_commands(c);
    return ok;
}

static void ha_close(live_session *s) { live_link_stop(&s->link); }

static const live_ops HA_OPS = {
    .fields = FIELDS,
    .field_count = sizeof FIELDS / sizeof *FIELDS,
    .settings = ha_settings,
    .open = ha_open,
    .send = ha_send,
    .close = ha_close,
};

const provider home_assistant_provider = {
    .name = "home_assistant",
    .display_name = "Home Assistant",
    .manufacturer = "home_assistant",
    .category = DEVICE_LOCK,
    .device_type = "smartthings_lock",
    .live = &HA_OPS,
};
