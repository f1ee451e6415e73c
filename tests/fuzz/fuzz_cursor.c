/* Fuzz target for page cursors (api/pagination): pagination_cursor_decode
 * and pagination_read on fuzzed cursors, filters and scopes, and the
 * round trip of every position a cursor decodes to. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/pagination.h"
#include "fuzz_support.h"

/* A cursor for (f, scope, after) must decode to after, there and only there. */
static void check_round_trip(arena *a, const page_filters *f, const char *scope, int64_t after)
{
    page_request req = {.limit = 1, .after = 0};
    json_t *pagination = pagination_json(a, f, scope, "http://127.0.0.1:3020/devices/list", &req,
                                         true, after);
    const char *cursor = json_string_value(json_object_get(pagination, "next_page_cursor"));
    int64_t back = -1;
    if (!cursor || !pagination_cursor_decode(a, f, scope, cursor, &back) || back != after ||
        pagination_cursor_decode(a, f, arena_sprintf(a, "%s.", scope), cursor, &back))
        abort();
    json_decref(pagination);
}

/* Input: "<scope key>\n<filters k=v&k=v>\n<cursor>\n<query for pagination_read>". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a);
    fuzz_input in = {data, size};
    const char *scope = fuzz_line(&in, &a);
    const char *filter_query = fuzz_line(&in, &a);
    const char *cursor = fuzz_line(&in, &a);
    size_t query_len;
    const char *query = fuzz_rest(&in, &a, &query_len);

    page_filters f;
    page_filters_init(&f, &a);
    api_kv *filters;
    size_t nfilters = fuzz_query(&a, filter_query ? filter_query : "", &filters);
    for (size_t i = 0; i < nfilters; i++)
        page_filters_add(&f, filters[i].key, filters[i].value);
    if (!scope)
        scope = "";

    int64_t after;
    if (cursor && pagination_cursor_decode(&a, &f, scope, cursor, &after))
        check_round_trip(&a, &f, scope, after);

    api_kv *kv;
    size_t n = fuzz_query(&a, query, &kv);
    params *p = params_from_query(&a, kv, n);
    page_request req;
    pagination_read(p, &f, scope, 25, 500, &req);
    if (req.limit < 1 || req.limit > 500 || req.after < 0)
        abort();
    params_check(p);
    params_free(p);
    arena_free(&a);
    return 0;
}
