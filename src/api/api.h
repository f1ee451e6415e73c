/* The API's entry point, independent of any HTTP library: the HTTP layer
 * fills an api_request, calls api_handle, and writes the api_response. */
#ifndef LATCHKEY_API_H
#define LATCHKEY_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/tokens.h"
#include "core/arena.h"
#include "store/store.h"

struct action_worker;
struct links;
struct answer_cache;

/* Long-lived state shared by every request. */
typedef struct api_server {
    store *store;
    token_keys keys;
    const char *public_url;          /* base of URLs we hand out, no trailing '/' */
    int64_t client_session_lifetime_ms;
    struct action_worker *actions;   /* completes action attempts */
    struct links *links;             /* live providers' connections */
    int64_t action_delay_ms;         /* how long after creation an attempt is due */
    struct answer_cache *cache;      /* answers of read-only routes; NULL: none */
} api_server;

typedef struct api_kv {
    const char *key;
    const char *value; /* "" for "key=" or a bare "key" */
} api_kv;

typedef struct api_request {
    arena *a;
    const char *method;
    const char *path;
    const api_kv *query; /* in the order sent, repeated keys repeated */
    size_t nquery;
    const char *body;
    size_t body_len;
    const char *content_type; /* of the body, or NULL */
    auth_headers creds;
} api_request;

/* A request that waits for an action attempt to finish (sync: true) is
 * answered later: the HTTP layer parks the connection, wakes it when the
 * wait is over, and asks for the answer then. */
typedef struct api_wait {
    const char *action_attempt_id; /* NULL: not waiting */
    const char *workspace_id;
    int64_t deadline_ms;
    const char *also; /* members the answer has besides the attempt (a serialized object), or NULL */
} api_wait;

enum { API_MAX_HEADERS = 8 };

typedef struct api_response {
    int status;
    char *body; /* malloc'd; the caller frees it */
    size_t body_len;
    const char *content_type;
    struct {
        const char *name, *value;
    } headers[API_MAX_HEADERS];
    size_t nheaders;
    bool cors;     /* browsers of any origin may read it (not for API keys) */
    api_wait wait; /* set: no answer yet; park the request */
} api_response;

void api_handle(const api_server *srv, const api_request *req, api_response *res);
/* Which of n parked requests' waits are over (over[i]): their attempt is
 * done or gone, or their time is up. One read of the store for them all;
 * when it fails, only those whose time is up are over. */
void api_waits_over(const api_server *srv, const api_wait *const *w, size_t n, bool *over);
/* The answer of a parked request: the attempt as it is now. */
void api_wait_answer(const api_server *srv, arena *a, const api_wait *w, api_response *res);
/* Blocks until an action attempt finished on this node since *seen (a
 * count this call keeps: start it at 0), or until deadline_ms. Attempts
 * another node finishes are not signalled: callers look again after a
 * short deadline (the HTTP layer: 200 ms). */
void api_wait_progress(const api_server *srv, int64_t deadline_ms, uint64_t *seen);

#endif
