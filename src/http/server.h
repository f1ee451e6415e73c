/* The HTTP layer on libmicrohttpd: connection limits and timeouts, request
 * ids, CORS, body accumulation with a size limit, one log line per request,
 * and graceful stop. It turns requests into api_requests and back. */
#ifndef LATCHKEY_HTTP_SERVER_H
#define LATCHKEY_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

typedef struct http_config {
    const char *host;
    uint16_t port;             /* 0: any free port */
    unsigned threads;          /* worker threads in the pool */
    unsigned connection_limit;
    unsigned timeout_seconds;  /* idle connection timeout */
    size_t body_limit;         /* larger bodies get 413 */
    size_t url_limit;          /* longer URLs (path and query) get 414 */
    size_t query_param_limit;  /* queries of more parameters get 400 */
    size_t header_limit;       /* larger headers get 431 */
    size_t connection_memory;  /* per connection: above URL and header limits together */
} http_config;

typedef struct http_server http_server;

http_server *http_start(const http_config *cfg, const api_server *api, char *why, size_t whylen);
/* The port actually bound. */
uint16_t http_port(const http_server *s);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), stops. */
void http_stop(http_server *s, unsigned grace_ms);

#endif
