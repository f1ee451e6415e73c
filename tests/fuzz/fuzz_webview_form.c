/* Fuzz target for the connect webview's page (api/connect_page.c) through
 * api_handle: a fuzzed query string and form body on /connect_webviews/view,
 * against the fixture's pending webviews, each request rolled back. */
#include <string.h>

#include "fuzz_support.h"

/* Input: "<query string>" alone is a GET; "<query string>\n<form body>" a
 * POST of that body as application/x-www-form-urlencoded. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a);
    bool post = memchr(data, '\n', size) != NULL;
    fuzz_input in = {data, size};
    const char *query = fuzz_line(&in, &a);
    size_t body_len;
    const char *body = fuzz_rest(&in, &a, &body_len);
    api_kv *kv;
    size_t n = fuzz_query(&a, query ? query : "", &kv);
    api_request req = {
        .a = &a,
        .method = post ? "POST" : "GET",
        .path = "/connect_webviews/view",
        .query = kv,
        .nquery = n,
        .body = body,
        .body_len = body_len,
        .content_type = "application/x-www-form-urlencoded",
    };
    fuzz_api_call(&req);
    arena_free(&a);
    return 0;
}
