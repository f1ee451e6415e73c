/* Shared parts of the live providers (live_util.h). */
#include "providers/live_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After a refused login the next try waits BACKOFF_REFUSED_MS: a server
 * that bans addresses after failed logins must not ban latchkey's. A new
 * login through the connect webview opens a new session at once. */
enum { BACKOFF_MIN_MS = 500, BACKOFF_MAX_MS = 30000, BACKOFF_REFUSED_MS = 300000 };

/* The link threads that have not ended yet (they are detached: a session
 * closes without waiting for its thread), for live_links_wait. */
static pthread_mutex_t threads_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_ended = PTHREAD_COND_INITIALIZER;
static size_t threads_running;

static void count_thread(int delta)
{
    pthread_mutex_lock(&threads_mu);
    threads_running = delta > 0 ? threads_running + 1 : threads_running - 1;
    if (threads_running == 0)
        pthread_cond_broadcast(&threads_ended);
    pthread_mutex_unlock(&threads_mu);
}

static void *run(void *arg)
{
    live_link *link = arg;
    while (!live_link_stopping(link)) {
        link->refused = link->bad_credentials = false;
        link->connect_once(link);
        if (live_link_stopping(link))
            break;
        /* A connection that came up starts the backoff again. */
        link->backoff_ms = link->bad_credentials ? BACKOFF_REFUSED_MS
                           : link->up            ? BACKOFF_MIN_MS
                           : link->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                   : link->backoff_ms * 2;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += link->backoff_ms / 1000;
        until.tv_nsec += (link->backoff_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&link->mu);
        while (!live_link_stopping(link))
            if (pthread_cond_timedwait(&link->wake, &link->mu, &until) != 0)
                break;
        pthread_mutex_unlock(&link->mu);
    }
    /* live_link_stop may still be unlocking the guard it set stopping under. */
    pthread_mutex_lock(&link->mu);
    pthread_mutex_unlock(&link->mu);
    pthread_mutex_destroy(&link->mu);
    pthread_cond_destroy(&link->wake);
    link->free(link);
    count_thread(-1);
    return NULL;
}

bool live_links_wait(int64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&threads_mu);
    while (threads_running > 0)
        if (pthread_cond_timedwait(&threads_ended, &threads_mu, &until) != 0)
            break;
    bool all = threads_running == 0;
    pthread_mutex_unlock(&threads_mu);
    return all;
}

bool live_link_start(live_link *link, const live_sink *sink, bool (*connect_once)(live_link *),
                     void (*free_session)(live_link *))
{
    link->sink = *sink;
    link->connect_once = connect_once;
    link->free = free_session;
    link->backoff_ms = BACKOFF_MIN_MS / 2;
    atomic_init(&link->stopping, false);
    pthread_mutex_init(&link->mu, NULL);
    pthread_cond_init(&link->wake, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    count_thread(+1);
    int rc = pthread_create(&link->thread, &attr, run, link);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        count_thread(-1);
        pthread_mutex_destroy(&link->mu);
        pthread_cond_destroy(&link->wake);
        free_session(link);
        return false;
    }
    return true;
}

void live_link_stop(live_link *link)
{
    pthread_mutex_lock(&link->mu);
    link->closed = true;
    atomic_store(&link->stopping, true);
    pthread_cond_broadcast(&link->wake);
    pthread_mutex_unlock(&link->mu);
}

bool live_link_stopping(live_link *link) { return atomic_load(&link->stopping); }

/* Holds the guard when the sink may be called (unlock after). */
static bool open_guard(live_link *link)
{
    pthread_mutex_lock(&link->mu);
    if (!link->closed)
        return true;
    pthread_mutex_unlock(&link->mu);
    return false;
}

void live_link_up(live_link *link)
{
    link->up = true;
    link->refused = false;
    if (!open_guard(link))
        return;
    link->sink.up(link->sink.ctx);
    pthread_mutex_unlock(&link->mu);
}

void live_link_refused(live_link *link, live_down why, const char *message)
{
    link->up = false;
    link->refused = true;
    link->bad_credentials = link->bad_credentials || why == LIVE_BAD_CREDENTIALS;
    if (!open_guard(link))
        return;
    link->sink.down(link->sink.ctx, why, message);
    pthread_mutex_unlock(&link->mu);
}

bool live_link_refused_now(const live_link *link) { return link->refused; }

void live_link_devices(live_link *link, const provider_device *devices, size_t count)
{
    if (!open_guard(link))
        return;
    link->sink.devices(link->sink.ctx, devices, count);
    pthread_mutex_unlock(&link->mu);
}

void live_link_state(live_link *link, const live_state *st)
{
    if (!open_guard(link))
        return;
    link->sink.state(link->sink.ctx, st);
    pthread_mutex_unlock(&link->mu);
}

static bool scheme_is(const char *url, const char *scheme, const char **rest)
{
    size_t n = strlen(scheme);
    if (strncasecmp(url, scheme, n) != 0 || strncmp(url + n, "://", 3) != 0)
        return false;
    *rest = url + n + 3;
    return true;
}

bool live_address_parse(const char *url, const char *plain, int plain_port, const char *secure,
                        int secure_port, live_address *out)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (!url)
        return false;
    while (isspace((unsigned char)*url))
        url++;
    if (scheme_is(url, secure, &p)) {
        out->tls = true;
        out->port = secure_port;
    } else if (scheme_is(url, plain, &p)) {
        out->port = plain_port;
    } else {
        return false;
    }
    size_t host_len = strcspn(p, ":/?#@ \t");
    if (host_len == 0 || host_len > 253)
        return false;
    for (size_t i = 0; i < host_len; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '-' && p[i] != '_')
            return false;
    const char *after = p + host_len;
    if (*after == ':') {
        char *end;
        long port = strtol(after + 1, &end, 10);
        if (end == after + 1 || port < 1 || port > 65535)
            return false;
        out->port = (int)port;
        after = end;
    }
    size_t path_len = strcspn(after, "?# \t\r\n");
    if (after[path_len] != '\0' && !isspace((unsigned char)after[path_len]))
        return false; /* no query or fragment */
    if (path_len && after[0] != '/')
        return false;
    while (path_len && after[path_len - 1] == '/')
        path_len--;
    for (const char *q = after + path_len; *q; q++)
        if (!isspace((unsigned char)*q) && *q != '/')
            return false;
    out->host = strndup(p, host_len);
    out->path = strndup(after, path_len);
    if (!out->host || !out->path) {
        live_address_free(out);
        return false;
    }
    return true;
}

void live_address_free(live_address *a)
{
    free(a->host);
    free(a->path);
    a->host = a->path = NULL;
}

char *live_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out) {
        va_start(ap, fmt);
        vsnprintf(out, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return out;
}
