/* Batched lines to standard error (log.h). Two buffers: lines are added to
 * `filling` under mu; a writer, under write_mu (so one at a time, in
 * order), swaps it with `writing` and writes that without mu, so adding a
 * line does not wait for a write unless LOG_MAX_BYTES already wait. */
#define _GNU_SOURCE
#include "core/log.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Past this much waiting, whoever adds a line writes out first. */
enum { LOG_MAX_BYTES = 1 << 20 };

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

static struct {
    pthread_mutex_t mu;       /* filling, users, running, stopping */
    pthread_cond_t wake;      /* for the flusher: a first line waits, or stop */
    pthread_mutex_t write_mu; /* writing, and the order of writes */
    buffer filling, writing;
    unsigned users;
    bool running, stopping;
    pthread_t flusher;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .write_mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static void init_wake(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g.wake, &attr);
    pthread_condattr_destroy(&attr);
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = STDERR_FILENO, .events = POLLOUT};
            poll(&pfd, 1, -1);
        } else if (!(w < 0 && errno == EINTR)) {
            return; /* standard error is gone: nowhere to write */
        }
    }
}

/* Whole lines, in writes of at most PIPE_BUF bytes (a pipe takes those in
 * one piece), unless a line alone is longer. */
static void write_lines(const char *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n;
        if (chunk > PIPE_BUF) {
            const char *nl = memrchr(p, '\n', PIPE_BUF);
            if (!nl)
                nl = memchr(p + PIPE_BUF, '\n', n - PIPE_BUF);
            chunk = nl ? (size_t)(nl - p) + 1 : n;
        }
        write_all(p, chunk);
        p += chunk;
        n -= chunk;
    }
}

/* Writes out what waits. With wait false, does nothing while another
 * writer is at it (that one, or the flusher, takes these lines too). */
static void write_out(bool wait)
{
    if (wait)
        pthread_mutex_lock(&g.write_mu);
    else if (pthread_mutex_trylock(&g.write_mu) != 0)
        return;
    pthread_mutex_lock(&g.mu);
    buffer full = g.filling;
    g.filling = g.writing;
    pthread_mutex_unlock(&g.mu);
    write_lines(full.data, full.len);
    full.len = 0;
    g.writing = full;
    pthread_mutex_unlock(&g.write_mu);
}

static void *flush_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.mu);
    while (!g.stopping) {
        if (g.filling.len == 0) {
            pthread_cond_wait(&g.wake, &g.mu);
            continue;
        }
        /* A line waits: the next LOG_DELAY_MS join it in one write. */
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_nsec += LOG_DELAY_MS * 1000000L;
        at.tv_sec += at.tv_nsec / 1000000000L;
        at.tv_nsec %= 1000000000L;
        while (!g.stopping && g.filling.len > 0 &&
               pthread_cond_timedwait(&g.wake, &g.mu, &at) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&g.mu);
        write_out(true);
        pthread_mutex_lock(&g.mu);
    }
    pthread_mutex_unlock(&g.mu);
    write_out(true);
    return NULL;
}

static bool reserve(buffer *b, size_t more)
{
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 2 * LOG_BATCH_BYTES;
    while (cap < b->len + more)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return false;
    b->data = data;
    b->cap = cap;
    return true;
}

void log_line(const char *line, size_t len)
{
    pthread_mutex_lock(&g.mu);
    /* Standard error does not keep up: wait for it, writing out. */
    while (g.filling.len > 0 && g.filling.len + len > LOG_MAX_BYTES) {
        pthread_mutex_unlock(&g.mu);
        write_out(true);
        pthread_mutex_lock(&g.mu);
    }
    bool added = reserve(&g.filling, len);
    if (added) {
        memcpy(g.filling.data + g.filling.len, line, len);
        g.filling.len += len;
        if (g.running && g.filling.len == len)
            pthread_cond_signal(&g.wake);
    }
    bool running = g.running, now = !running || g.filling.len >= LOG_BATCH_BYTES;
    pthread_mutex_unlock(&g.mu);
    if (!added) { /* out of memory: the lines before it, then this one */
        write_out(true);
        pthread_mutex_lock(&g.write_mu);
        write_lines(line, len);
        pthread_mutex_unlock(&g.write_mu);
    } else if (now) {
        write_out(!running); /* unbatched: at once; batched: unless a write is under way */
    }
}

void log_flush(void)
{
    write_out(true);
}

bool log_start(void)
{
    static bool flush_at_exit;
    pthread_once(&wake_once, init_wake);
    pthread_mutex_lock(&g.mu);
    if (g.users == 0) {
        g.stopping = false;
        g.running = pthread_create(&g.flusher, NULL, flush_loop, NULL) == 0;
        if (!flush_at_exit)
            flush_at_exit = atexit(log_flush) == 0;
    }
    bool ok = g.running;
    if (ok)
        g.users++;
    pthread_mutex_unlock(&g.mu);
    return ok;
}

void log_stop(void)
{
    pthread_mutex_lock(&g.mu);
    bool last = g.users > 0 && --g.users == 0;
    if (last) {
        g.stopping = true;
        pthread_cond_signal(&g.wake);
    }
    pthread_mutex_unlock(&g.mu);
    if (!last)
        return;
    pthread_join(g.flusher, NULL);
    pthread_mutex_lock(&g.mu);
    g.running = false;
    pthread_mutex_unlock(&g.mu);
    write_out(true); /* lines added after the flusher's last look */
}
