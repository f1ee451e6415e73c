/* Keyset pagination: `limit` and `page_cursor` in, the `pagination` object
 * out. A cursor is bound to the filters (and scope) of the request that made
 * it; replayed with other filters it is rejected as invalid input. */
#ifndef LATCHKEY_PAGINATION_H
#define LATCHKEY_PAGINATION_H

#include <jansson.h>
#include <stdint.h>

#include "api/params.h"
#include "core/arena.h"
#include "core/str_list.h"

/* The filters of one list request, in canonical query-string form. */
typedef struct page_filters {
    arena *a;
    char *query; /* "k=v&k=v", percent-encoded */
} page_filters;

void page_filters_init(page_filters *f, arena *a);
void page_filters_add(page_filters *f, const char *key, const char *value);
/* Adds every item as a repeated key ("key=" for an empty list). */
void page_filters_add_list(page_filters *f, const char *key, const str_list *l);

typedef struct page_request {
    int64_t limit;
    int64_t after; /* the position after which this page starts */
} page_request;

/* Reads limit and page_cursor; rejects a cursor minted for other filters
 * or another scope. */
void pagination_read(params *p, const page_filters *f, const char *scope_key,
                     int64_t default_limit, int64_t max_limit, page_request *out);
/* The pagination object. When has_next, `last` is the position of the last
 * item returned; base_url is public URL + route path. */
json_t *pagination_json(arena *a, const page_filters *f, const char *scope_key, const char *base_url,
                        const page_request *req, bool has_next, int64_t last);

/* Exposed for unit tests. */
char *pagination_cursor_encode(arena *a, const page_filters *f, const char *scope_key, int64_t after);
/* Returns false when the cursor is malformed or bound to other filters. */
bool pagination_cursor_decode(arena *a, const page_filters *f, const char *scope_key,
                              const char *cursor, int64_t *after);

#endif
