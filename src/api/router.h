/* The route table: (path, methods) -> which credentials may call it and
 * the handler that serves it. */
#ifndef LATCHKEY_ROUTER_H
#define LATCHKEY_ROUTER_H

#include "api/handler.h"

enum {
    METHOD_GET = 1 << 0,
    METHOD_POST = 1 << 1,
    METHOD_PUT = 1 << 2,
    METHOD_PATCH = 1 << 3,
    METHOD_DELETE = 1 << 4,
};

typedef struct route {
    const char *path;
    unsigned methods;
    unsigned creds; /* cred_kind bits; 0: no credential needed */
    api_handler handler;
    bool page;      /* answers HTML; takes query and form fields, ignores others */
    bool reads;     /* changes nothing: runs on one snapshot, its answers are cached */
} route;

const route *router_find(const char *path);
/* The table in order, for listing it (`latchkey routes`) and for tests
 * that visit every route: router_at(i) for i < router_count(). */
size_t router_count(void);
const route *router_at(size_t i);
/* METHOD_* bit for a method name, 0 for any other. */
unsigned router_method_bit(const char *method);
/* The name of one METHOD_* bit, NULL for anything else. */
const char *router_method_name(unsigned bit);
/* "GET, POST" for a methods mask, in an arena. */
const char *router_allow_header(arena *a, unsigned methods);

#endif
