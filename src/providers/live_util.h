/* What the live providers share (live.h): the session's connection thread
 * (connect, run until the connection ends, back off, again, until stopped),
 * the guard that keeps sink calls from running after close, and parsing of
 * the addresses people type into the connect webview. */
#ifndef LATCHKEY_PROVIDERS_LIVE_UTIL_H
#define LATCHKEY_PROVIDERS_LIVE_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "providers/live.h"

typedef struct live_link live_link;
struct live_link {
    live_sink sink;
    pthread_t thread;
    pthread_mutex_t mu;  /* held during sink calls; closed is set under it */
    pthread_cond_t wake; /* the backoff's sleep, cut short by stop */
    bool closed;
    _Atomic bool stopping;
    bool up;              /* the last report was up (the thread's own) */
    bool refused;         /* this connection was reported down */
    bool bad_credentials; /* ... because the login was refused */
    int64_t backoff_ms;
    /* One connection: connects, runs it until it ends or stopping; false
     * when it could not be made. */
    bool (*connect_once)(live_link *link);
    void (*free)(live_link *link); /* frees the session, after the thread */
};

/* Starts the thread; on failure frees the session (with free) and is false. */
bool live_link_start(live_link *link, const live_sink *sink, bool (*connect_once)(live_link *),
                     void (*free_session)(live_link *));
/* No sink call after it returns; the thread ends (and frees the session)
 * once its current connection step does. */
void live_link_stop(live_link *link);
bool live_link_stopping(live_link *link);

/* Reports, from the session's thread; nothing once closed. */
void live_link_up(live_link *link);
void live_link_refused(live_link *link, live_down why, const char *message);
bool live_link_refused_now(const live_link *link);
void live_link_devices(live_link *link, const provider_device *devices, size_t count);
void live_link_state(live_link *link, const live_state *st);

/* scheme://host[:port][/path]: one of two schemes (the second with TLS);
 * host and path are malloc'd. */
typedef struct live_address {
    char *host;
    int port;
    bool tls;
    char *path; /* "" or starting with '/', without a trailing '/' */
} live_address;
bool live_address_parse(const char *url, const char *plain, int plain_port, const char *secure,
                        int secure_port, live_address *out);
void live_address_free(live_address *a);

/* A malloc'd printf. */
char *live_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
