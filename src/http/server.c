/* libmicrohttpd adapter (server.h). The access handler runs several times
 * per request: once for the headers, once per body chunk, once to answer;
 * per-request state lives in a request_state freed by the completion
 * callback. */
#define _GNU_SOURCE
#include "http/server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"

typedef struct request_state request_state;

/* A parked connection: its request waits for an action attempt. */
typedef struct parked {
    struct MHD_Connection *conn;
    request_state *st;
    struct parked *next;
} parked;

/* What the guard knows of one connection. While the connection is reading
 * a request (its head, or its body) it is on the server's `reading` list,
 * oldest first, with a deadline: a client that trickles bytes cannot keep
 * it for longer, and under pressure the oldest reader makes room. */
typedef struct conn_guard {
    int fd;
    int64_t since_ms;    /* when it started reading this request */
    int64_t deadline_ms; /* when it is closed if still reading */
    bool reading;
    struct conn_guard *prev, *next;
} conn_guard;

struct http_server {
    struct MHD_Daemon *daemon;
    const api_server *api;
    http_config cfg;
    atomic_int in_flight;
    char keep_alive[32]; /* the Keep-Alive header: "timeout=N" */
    /* The connection guard: every open connection is counted, the reading
     * ones listed. */
    pthread_mutex_t guard_mu;
    conn_guard *reading_first, *reading_last;
    unsigned connections;
    /* Parked requests, and the thread that wakes them when their wait is over. */
    pthread_mutex_t park_mu;
    parked *parked;
    pthread_t waker;
    bool stopping;
    bool log_batched; /* log_start succeeded: log_stop in server_free */
};

struct request_state {
    arena a;
    const char *keep_alive; /* the Keep-Alive header: "timeout=N" */
    conn_guard *guard;
    char request_id[8 + UUID_STR_LEN];
    struct timespec started;
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    unsigned long long announced; /* Content-Length, 0 when none */
    size_t discarded;             /* body bytes read past the limit and dropped */
    bool body_follows;
    size_t uri_size;              /* of the request line's URI, as sent */
    char *query;                  /* the URL's query as sent (after '?'), or NULL */
    int query_refused;            /* 414: URL too long; 400: too many parameters */
    const char *method, *path; /* for the log line */
    int status;
    api_wait wait;             /* set while parked */
    bool cors;                 /* of the parked request */
};

/* Bodies over the limit but not over this are read to the end and dropped
 * before the 413 goes out. */
enum { DISCARD_LIMIT = 8 << 20 };

static const char CORS_ALLOW_HEADERS[] =
    "authorization, content-type, client-session-token, seam-client-session-token, "
    "seam-publishable-key, seam-user-identifier-key, seam-workspace, seam-sdk-name, "
    "seam-sdk-version, seam-lts-version";
static const char CORS_ALLOW_METHODS[] = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Query strings as browsers and the SDK write them: '+' is a space. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '+') {
            *w++ = ' ';
        } else if (*r == '%' && r[1] && r[2]) {
            char hex[3] = {r[1], r[2], 0}, *end;
            long v = strtol(hex, &end, 16);
            if (*end == '\0' && v > 0) {
                *w++ = (char)v;
                r += 2;
            } else {
                *w++ = *r;
            }
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* The query's parameters, split and decoded as libmicrohttpd does
 * (MHD_parse_arguments_): at each '&', then at the first '=' (none: the
 * value is empty), each side through unescape; empty ones ("a&&b") kept,
 * an empty last one ("a&") not. The query is cut up in place. */
static api_kv *parse_query(arena *a, char *query, size_t *n)
{
    api_kv *kv = NULL;
    size_t cap = 0;
    *n = 0;
    for (char *item = query, *next; item && *item; item = next) {
        next = strchr(item, '&');
        if (next)
            *next++ = '\0';
        char *value = strchr(item, '=');
        if (value) {
            *value++ = '\0';
            unescape(NULL, NULL, value);
        }
        unescape(NULL, NULL, item);
        kv = arena_grow(a, kv, *n, &cap, sizeof *kv);
        kv[(*n)++] = (api_kv){.key = item, .value = value ? value : ""};
    }
    return kv;
}

/* The SDK sends client-session requests with credentials, so the grant
 * names the origin and allows credentials; latchkey sets no cookies. */
static void add_cors(struct MHD_Response *r, const char *origin)
{
    MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "seam-request-id");
    MHD_add_response_header(r, "Vary", "Origin");
}

static enum MHD_Result send_response(struct MHD_Connection *conn, request_state *st, int status,
                                     struct MHD_Response *r)
{
    MHD_add_response_header(r, "seam-request-id", st->request_id);
    /* Clients that know when an idle connection will be closed (browsers,
     * undici) stop reusing it before, instead of writing into a close. */
    MHD_add_response_header(r, "Keep-Alive", st->keep_alive);
    st->status = status;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_preflight(struct MHD_Connection *conn, request_state *st)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    const char *origin = header(conn, "Origin");
    if (origin) {
        add_cors(r, origin);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", CORS_ALLOW_METHODS);
        MHD_add_response_header(r, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    }
    return send_response(conn, st, 204, r);
}

/* An error the HTTP layer finds itself, in the API's error shape. The
 * connection closes after it unless the request was read to its end: a
 * close with the client's bytes still unread makes the kernel reset the
 * connection, and the client may never read the answer. */
static enum MHD_Result send_error_keep(struct MHD_Connection *conn, request_state *st, int status,
                                       const char *type, const char *message, bool keep_alive)
{
    json_t *o = json_pack("{s:{s:s,s:s},s:b}", "error", "type", type, "message", message, "ok", 0);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    if (!keep_alive)
        MHD_add_response_header(r, "Connection", "close");
    return send_response(conn, st, status, r);
}

static enum MHD_Result send_http_error(struct MHD_Connection *conn, request_state *st, int status,
                                       const char *type, const char *message)
{
    return send_error_keep(conn, st, status, type, message, false);
}

/* 413: at once (closing) for a body announced past what is read and
 * dropped, or once the whole body has been read (keeping the connection). */
static enum MHD_Result send_too_large(struct MHD_Connection *conn, request_state *st,
                                      size_t limit, bool body_read)
{
    return send_error_keep(conn, st, 413, "payload_too_large",
                           arena_sprintf(&st->a, "The request body is larger than %zu bytes.",
                                         limit),
                           body_read);
}

/* What the head says about framing, counted over every header as sent. */
typedef struct head_facts {
    size_t size;          /* bytes of names and values */
    unsigned content_length, transfer_encoding, host;
    const char *transfer_encoding_value;
    bool nul;             /* a name or value with a NUL byte in it */
} head_facts;

/* libmicrohttpd keeps header lines in its read buffer and ends a value
 * with a NUL written over the line's end (CR, LF) or over the spaces it
 * trims; it cuts a value at a NUL byte the client sent inside it. So the
 * byte after the terminator tells: the rest of the line (or of a bare-LF
 * line's successor) means the client's NUL, or a bare LF, ended it. */
static bool value_cut_at_nul(const char *value, size_t size)
{
    char after = value[size + 1];
    return after != '\0' && after != '\n' && after != ' ' && after != '\t';
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    head_facts *f = cls;
    f->size += key_size + value_size + 4;
    f->nul |= strlen(key) != key_size || (value && value_cut_at_nul(value, value_size));
    if (strcasecmp(key, "Content-Length") == 0) {
        f->content_length++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        f->transfer_encoding_value = value;
    } else if (strcasecmp(key, "Host") == 0) {
        f->host++;
    }
    return MHD_YES;
}

/* The request line and headers against the limits (414, 400, 431) and against
 * framing a proxy in front could read another way (400): one body length,
 * said once; chunked as the only transfer coding; a Host on HTTP/1.1; no
 * NUL bytes. (Past the connection's memory, libmicrohttpd answers itself.) */
static enum MHD_Result check_head(http_server *s, struct MHD_Connection *conn, request_state *st,
                                  const char *version, bool *rejected)
{
    head_facts f = {0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_header, &f);
    /* on_uri leaves libmicrohttpd no parameters to parse, unless a NUL
     * byte before the '?' hid the query from it. */
    bool line_nul = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0;
    *rejected = true;
    if (st->query_refused == 414)
        return send_http_error(conn, st, 414, "uri_too_long",
                               arena_sprintf(&st->a, "The URL is longer than %zu bytes.",
                                             s->cfg.url_limit));
    if (st->query_refused)
        return send_http_error(conn, st, 400, "invalid_input",
                               arena_sprintf(&st->a, "The query has more than %zu parameters.",
                                             s->cfg.query_param_limit));
    if (f.size > s->cfg.header_limit)
        return send_http_error(conn, st, 431, "request_header_fields_too_large",
                               arena_sprintf(&st->a, "The headers are larger than %zu bytes.",
                                             s->cfg.header_limit));
    const char *problem =
        line_nul ? "The request line contains a NUL byte."
        : f.nul ? "A header contains a NUL byte (or ends with a bare line feed)."
        : f.content_length > 1 ? "Content-Length is given more than once."
        : f.transfer_encoding > 1 ? "Transfer-Encoding is given more than once."
        : f.transfer_encoding && f.content_length
            ? "Content-Length and Transfer-Encoding cannot both be given."
        : f.transfer_encoding && strcasecmp(f.transfer_encoding_value, "chunked") != 0
            ? "The only transfer coding accepted is chunked."
        : f.host > 1 ? "Host is given more than once."
        : !f.host && strcmp(version, MHD_HTTP_VERSION_1_1) == 0
            ? "An HTTP/1.1 request needs a Host header."
            : NULL;
    if (problem)
        return send_http_error(conn, st, 400, "invalid_request", problem);
    *rejected = false;
    st->body_follows = f.content_length ? st->announced > 0 : f.transfer_encoding > 0;
    return MHD_YES;
}

static auth_headers credential_headers(struct MHD_Connection *conn)
{
    return (auth_headers){
        .authorization = header(conn, "Authorization"),
        .client_session_token = header(conn, "client-session-token"),
        .seam_client_session_token = header(conn, "seam-client-session-token"),
        .publishable_key = header(conn, "seam-publishable-key"),
        .user_identifier_key = header(conn, "seam-user-identifier-key"),
    };
}

/* Writes an api_response (taking its body). */
static enum MHD_Result send_api_response(struct MHD_Connection *conn, request_state *st,
                                         api_response *res)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(res->body_len, res->body,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", res->content_type);
    for (size_t i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    const char *origin = header(conn, "Origin");
    if (origin && res->cors)
        add_cors(r, origin);
    return send_response(conn, st, res->status, r);
}

/* Parks the connection until its wait is over (see wake_parked); false,
 * parking nothing, once the server is stopping. */
static bool park(http_server *s, struct MHD_Connection *conn, request_state *st)
{
    parked *p = arena_alloc(&st->a, sizeof *p);
    *p = (parked){.conn = conn, .st = st};
    pthread_mutex_lock(&s->park_mu);
    bool parking = !s->stopping;
    if (parking) {
        MHD_suspend_connection(conn);
        p->next = s->parked;
        s->parked = p;
    }
    pthread_mutex_unlock(&s->park_mu);
    return parking;
}

/* The answer of a request that waited: the attempt as it is now. */
static enum MHD_Result send_waited(http_server *s, struct MHD_Connection *conn,
                                   request_state *st)
{
    api_response res;
    api_wait_answer(s->api, &st->a, &st->wait, &res);
    res.cors = st->cors;
    return send_api_response(conn, st, &res);
}

static enum MHD_Result send_api(http_server *s, struct MHD_Connection *conn, request_state *st,
                                const char *method, const char *url)
{
    size_t nquery;
    api_kv *query = parse_query(&st->a, st->query, &nquery);
    api_request req = {
        .a = &st->a,
        .method = method,
        .path = url,
        .query = query,
        .nquery = nquery,
        .body = st->body,
        .body_len = st->body_len,
        .content_type = header(conn, "Content-Type"),
        .creds = credential_headers(conn),
    };
    api_response res;
    api_handle(s->api, &req, &res);
    if (res.wait.action_attempt_id) {
        st->wait = res.wait;
        st->cors = res.cors;
        return park(s, conn, st) ? MHD_YES : send_waited(s, conn, st);
    }
    return send_api_response(conn, st, &res);
}

static bool append_body(request_state *st, const char *data, size_t size, size_t limit)
{
    if (st->body_len + size > limit)
        return false;
    if (st->body_len + size > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < st->body_len + size)
            cap *= 2;
        char *nb = arena_alloc(&st->a, cap);
        if (st->body_len)
            memcpy(nb, st->body, st->body_len);
        st->body = nb;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, size);
    st->body_len += size;
    return true;
}

/* ---- the connection guard ---- */

enum {
    GUARD_MIN_AGE_MS = 1000,    /* a reader younger than this is never evicted */
    BODY_TIMEOUT_FACTOR = 3,    /* a body may take this many timeouts */
};

static void guard_unlist(http_server *s, conn_guard *g)
{
    if (!g->reading)
        return;
    *(g->prev ? &g->prev->next : &s->reading_first) = g->next;
    *(g->next ? &g->next->prev : &s->reading_last) = g->prev;
    g->prev = g->next = NULL;
    g->reading = false;
}

/* Starts reading a request (the connection is new, or answered its last
 * request and waits for the next): listed last, with a deadline. */
static void guard_reading(http_server *s, conn_guard *g, int64_t now)
{
    guard_unlist(s, g);
    g->since_ms = now;
    g->deadline_ms = now + (int64_t)s->cfg.timeout_seconds * 1000;
    g->reading = true;
    g->prev = s->reading_last;
    *(s->reading_last ? &s->reading_last->next : &s->reading_first) = g;
    s->reading_last = g;
}

/* Closes the connection under MHD's feet: its thread sees the socket end
 * and cleans up as if the client had left. */
static void guard_close(http_server *s, conn_guard *g)
{
    guard_unlist(s, g);
    shutdown(g->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    pthread_mutex_lock(&s->guard_mu);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_guard *g = info ? calloc(1, sizeof *g) : NULL;
        if (g) {
            int64_t now = time_now_ms();
            g->fd = info->connect_fd;
            guard_reading(s, g, now);
            s->connections++;
            /* Near the limit, the reader that has taken longest makes room
             * for the newcomer: a trickling client before anyone else. */
            conn_guard *oldest = s->reading_first;
            if (s->connections > s->cfg.connection_limit / 10 * 9 && oldest != g &&
                now - oldest->since_ms >= GUARD_MIN_AGE_MS)
                guard_close(s, oldest);
        }
        *socket_context = g;
    } else if (*socket_context) {
        conn_guard *g = *socket_context;
        guard_unlist(s, g);
        s->connections--;
        free(g);
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&s->guard_mu);
}

/* Closes the connections that are past their deadline. */
static void guard_sweep(http_server *s)
{
    int64_t now = time_now_ms();
    pthread_mutex_lock(&s->guard_mu);
    for (conn_guard *g = s->reading_first, *next; g; g = next) {
        next = g->next;
        if (now >= g->deadline_ms)
            guard_close(s, g);
    }
    pthread_mutex_unlock(&s->guard_mu);
}

/* Where a connection is in its request: ANSWERING, off the list while its
 * request is answered; BODY, its head in and a body to come, with the
 * longer deadline of a body; WAITING, answered and back on the list, last,
 * for its next request. */
typedef enum guard_state { GUARD_ANSWERING, GUARD_BODY, GUARD_WAITING } guard_state;

static void guard_set(http_server *s, conn_guard *g, guard_state to)
{
    if (!g)
        return;
    pthread_mutex_lock(&s->guard_mu);
    int64_t now = time_now_ms();
    if (to == GUARD_WAITING)
        guard_reading(s, g, now);
    else if (to == GUARD_BODY && g->reading)
        g->deadline_ms = now + (int64_t)s->cfg.timeout_seconds * 1000 * BODY_TIMEOUT_FACTOR;
    else
        guard_unlist(s, g);
    pthread_mutex_unlock(&s->guard_mu);
}

static conn_guard *guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* A request begins with its request line, which libmicrohttpd shows here
 * before it parses the query string into its connection memory: some 50
 * bytes for each parameter, of a pool it zeroes on every request, so kept
 * small (main.c). The query is taken here instead (its '?' then ends the
 * text libmicrohttpd parses) and parsed into the request's arena by
 * send_api; a URL over the limit, or a query of more parameters than
 * allowed, is refused once the head is in. The state made here is the
 * request's; the completion callback frees it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    http_server *s = cls;
    request_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    arena_init(&st->a);
    memcpy(st->request_id, "request_", 8);
    uuid_v4(st->request_id + 8);
    clock_gettime(CLOCK_MONOTONIC, &st->started);
    atomic_fetch_add(&s->in_flight, 1);
    st->keep_alive = s->keep_alive;
    st->uri_size = strlen(uri);
    char *query = strchr(uri, '?'); /* libmicrohttpd's own, writable buffer */
    if (query) {
        size_t params = 1;
        for (const char *c = query; *c; c++)
            params += *c == '&';
        st->query_refused = st->uri_size > s->cfg.url_limit ? 414
                            : params > s->cfg.query_param_limit ? 400
                                                                 : 0;
        if (!st->query_refused)
            st->query = arena_strdup(&st->a, query + 1);
        query[1] = '\0';
    }
    return st;
}

/* The head is in: the rest of the request's state. */
static void request_head(http_server *s, request_state *st, struct MHD_Connection *conn,
                         const char *method, const char *url)
{
    st->method = arena_strdup(&st->a, method);
    st->path = arena_strdup(&st->a, url);
    st->guard = guard_of(conn);
    const char *cl = header(conn, "Content-Length");
    st->announced = cl ? strtoull(cl, NULL, 10) : 0;
    st->too_large = st->announced > s->cfg.body_limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    http_server *s = cls;
    request_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* on_uri could not allocate it */
    if (!st->method) {
        /* An answer sent before the body is read reaches few clients (the
         * close resets the connection), so a body up to DISCARD_LIMIT is read
         * and dropped, and only a larger one is refused at once. */
        request_head(s, st, conn, method, url);
        bool rejected;
        enum MHD_Result ret = check_head(s, conn, st, version, &rejected);
        guard_set(s, st->guard, !rejected && st->body_follows ? GUARD_BODY : GUARD_ANSWERING);
        if (rejected)
            return ret;
        /* A client that waits for "100 Continue" has sent no body yet: it
         * can be refused at once, and nothing is left unread. */
        const char *expect = header(conn, "Expect");
        if (st->announced > DISCARD_LIMIT ||
            (st->too_large && expect && strcasecmp(expect, "100-continue") == 0))
            return send_too_large(conn, st, s->cfg.body_limit, false);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large && !append_body(st, upload_data, *upload_data_size, s->cfg.body_limit))
            st->too_large = true;
        if (st->too_large) {
            st->discarded += *upload_data_size;
            if (st->discarded > DISCARD_LIMIT)
                return MHD_NO; /* an endless body: drop the connection */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    guard_set(s, st->guard, GUARD_ANSWERING);
    if (st->too_large)
        return send_too_large(conn, st, s->cfg.body_limit, true);
    if (st->wait.action_attempt_id) /* woken */
        return send_waited(s, conn, st);
    if (strcmp(method, "OPTIONS") == 0)
        return send_preflight(conn, st);
    return send_api(s, conn, st, method, url);
}

/* A client's text as it goes into the log: printable ASCII, the rest
 * (line breaks, control bytes, anything past ASCII) as \xNN, so no request
 * can write a line of its own; cut at max bytes. */
static const char *log_text(arena *a, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    char *out = arena_alloc(a, max * 4 + 4), *o = out;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x20 && c < 0x7f && c != '\\')
            *o++ = (char)c;
        else
            o += sprintf(o, "\\x%02x", c);
    }
    if (n > max)
        o += sprintf(o, "...");
    *o = '\0';
    return out;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    request_state *st = *con_cls;
    if (!st)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - st->started.tv_sec) * 1e3 +
                (double)(now.tv_nsec - st->started.tv_nsec) / 1e6;
    /* No method: libmicrohttpd refused the head itself (status 0). Method
     * and path cut short enough that a line is at most PIPE_BUF bytes (2.4
     * KB), written whole even to a pipe other writers share (log.h). */
    char line[PIPE_BUF];
    int n = snprintf(line, sizeof line, "%s %s %s %d %.2fms%s\n", st->request_id,
                     st->method ? log_text(&st->a, st->method, 64) : "-",
                     st->path ? log_text(&st->a, st->path, 512) : "-", st->status, ms,
                     toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    if (n >= (int)sizeof line) { /* an absurd time: the line still ends */
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    if (n > 0)
        log_line(line, (size_t)n);
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        guard_set(s, guard_of(conn), GUARD_WAITING);
    arena_free(&st->a);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

enum { WAKER_LOOK_MS = 200 };

/* Resumes the parked requests whose wait is over (all of them when
 * stopping), and closes connections past their reading deadline; woken by
 * finished attempts, and looks at least every 200 ms. The parked requests
 * are taken off the list while the store is asked about them (once for
 * all), so that parking never waits for the store. */
static void *wake_parked(void *arg)
{
    http_server *s = arg;
    uint64_t seen = 0;
    for (;;) {
        api_wait_progress(s->api, time_now_ms() + WAKER_LOOK_MS, &seen);
        guard_sweep(s);
        pthread_mutex_lock(&s->park_mu);
        bool stopping = s->stopping;
        parked *list = s->parked;
        s->parked = NULL;
        pthread_mutex_unlock(&s->park_mu);
        size_t n = 0;
        for (parked *p = list; p; p = p->next)
            n++;
        arena a;
        arena_init(&a);
        const api_wait **waits = arena_alloc(&a, (n + 1) * sizeof *waits);
        bool *over = arena_alloc(&a, (n + 1) * sizeof *over);
        n = 0;
        for (parked *p = list; p; p = p->next)
            waits[n++] = &p->st->wait;
        if (stopping)
            memset(over, 1, n * sizeof *over);
        else if (n)
            api_waits_over(s->api, waits, n, over);
        parked *still = NULL, **tail = &still;
        n = 0;
        for (parked *p = list, *next; p; p = next, n++) {
            next = p->next;
            if (over[n]) {
                MHD_resume_connection(p->conn);
            } else {
                *tail = p;
                tail = &p->next;
            }
        }
        *tail = NULL;
        arena_free(&a);
        if (still) {
            pthread_mutex_lock(&s->park_mu);
            *tail = s->parked;
            s->parked = still;
            stopping = s->stopping;
            pthread_mutex_unlock(&s->park_mu);
        }
        if (stopping && !still)
            return NULL;
    }
}

static void server_free(http_server *s)
{
    if (s->log_batched)
        log_stop(); /* after the daemon: every request's line is in */
    pthread_mutex_destroy(&s->park_mu);
    pthread_mutex_destroy(&s->guard_mu);
    free(s);
}

http_server *http_start(const http_config *cfg, const api_server *api, char *why, size_t whylen)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    s->api = api;
    s->cfg = *cfg;
    atomic_init(&s->in_flight, 0);
    snprintf(s->keep_alive, sizeof s->keep_alive, "timeout=%u", cfg->timeout_seconds);
    pthread_mutex_init(&s->park_mu, NULL);
    pthread_mutex_init(&s->guard_mu, NULL);
    s->log_batched = log_start(); /* or each request's line written at once */

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", cfg->port);
    int rc = getaddrinfo(cfg->host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve host %s: %s", cfg->host, gai_strerror(rc));
        server_free(s);
        return NULL;
    }
    /* No MHD_USE_ERROR_LOG: it logs every client that hangs up early. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        snprintf(why, whylen, "cannot listen on %s:%u (in use, or not permitted)", cfg->host,
                 cfg->port);
        server_free(s);
        return NULL;
    }
    if (pthread_create(&s->waker, NULL, wake_parked, s) != 0) {
        MHD_stop_daemon(s->daemon);
        server_free(s);
        snprintf(why, whylen, "cannot start a thread");
        return NULL;
    }
    return s;
}

uint16_t http_port(const http_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void http_stop(http_server *s, unsigned grace_ms)
{
    MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    /* Parked requests answer now, with their attempts as they are. */
    pthread_mutex_lock(&s->park_mu);
    s->stopping = true;
    pthread_mutex_unlock(&s->park_mu);
    pthread_join(s->waker, NULL);
    for (unsigned waited = 0; atomic_load(&s->in_flight) > 0 && waited < grace_ms; waited += 10)
        usleep(10 * 1000);
    MHD_stop_daemon(s->daemon);
    server_free(s);
}
