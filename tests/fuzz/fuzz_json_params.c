/* Fuzz target for every route's parameters: the whole request pipeline
 * (api_handle: route, credential, JSON body or query string, handler) on
 * the seeded store, each request rolled back. */
#include <string.h>

#include "api/router.h"
#include "fuzz_support.h"

/* The route named by path, or else one picked by its hash, so that every
 * input reaches some route's parameters. */
static const route *pick_route(const char *path)
{
    const route *r = router_find(path);
    if (r)
        return r;
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        h = (h ^ *c) * 16777619u;
    return router_at(h % router_count());
}

/* "api_key", "client_session", "publishable_key [user identifier key]",
 * "none", or else the line itself as the Authorization header. */
static auth_headers credentials(const char *line)
{
    auth_headers h = {0};
    if (strcmp(line, "api_key") == 0) {
        h.authorization = "Bearer " FUZZ_API_KEY;
    } else if (strcmp(line, "client_session") == 0) {
        h.client_session_token = FUZZ_CLIENT_SESSION_TOKEN;
    } else if (strncmp(line, "publishable_key", 15) == 0) {
        h.publishable_key = FUZZ_PUBLISHABLE_KEY;
        if (line[15] == ' ')
            h.user_identifier_key = line + 16;
    } else if (strcmp(line, "none") != 0) {
        h.authorization = line;
    }
    return h;
}

/* Input: "<METHOD> <path>\n<credential>\n<body>"; the body is sent as the
 * JSON body and, decoded as "k=v&k=v", as the query string. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a);
    fuzz_input in = {data, size};
    char *target = fuzz_line(&in, &a);
    const char *cred = fuzz_line(&in, &a);
    size_t body_len;
    const char *body = fuzz_rest(&in, &a, &body_len);
    char *path = target ? strchr(target, ' ') : NULL;
    if (path)
        *path++ = '\0';
    api_kv *query;
    size_t nquery = fuzz_query(&a, body, &query);
    api_request req = {
        .a = &a,
        .method = target ? target : "GET",
        .path = pick_route(path ? path : "")->path,
        .query = query,
        .nquery = nquery,
        .body = body,
        .body_len = body_len,
        .content_type = "application/json",
        .creds = credentials(cred ? cred : "none"),
    };
    fuzz_api_call(&req);
    arena_free(&a);
    return 0;
}
