/* Fuzz target for credentials (auth/): auth_credential, token_classify and
 * auth_resolve against the seeded store, with fuzzed values in each of the
 * five credential headers. */
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/timeutil.h"
#include "fuzz_support.h"

static const cred_kind KIND_OF_TOKEN[] = {
    [TOKEN_MALFORMED] = CRED_NONE,
    [TOKEN_API_KEY] = CRED_API_KEY,
    [TOKEN_CLIENT_SESSION] = CRED_CLIENT_SESSION,
    [TOKEN_PUBLISHABLE_KEY] = CRED_PUBLISHABLE_KEY,
};

/* Input: the five headers, one a line, in auth_headers' order:
 * Authorization, client-session-token, seam-client-session-token,
 * seam-publishable-key, seam-user-identifier-key. A header past the end of
 * the input is not sent. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const api_server *srv = fuzz_server();
    arena a;
    arena_init(&a);
    fuzz_input in = {data, size};
    const char *fields[5];
    for (size_t i = 0; i < 5; i++) {
        fields[i] = fuzz_line(&in, &a);
        token_classify(fields[i]);
    }
    auth_headers h = {fields[0], fields[1], fields[2], fields[3], fields[4]};
    const char *token = auth_credential(&h);
    auth_ctx ctx;
    err e = auth_resolve(srv->store, &srv->keys, &a, &h, time_now_ms(), &ctx);
    if (!err_failed(e)) {
        /* Only a credential of a known kind, the kind its prefix says, passes. */
        if (!token || ctx.kind != KIND_OF_TOKEN[token_classify(token)] || !ctx.workspace_id)
            abort();
        store_scope scope = auth_scope(&ctx);
        if (!scope.workspace_id || !cred_kind_name(ctx.kind))
            abort();
    } else if (err_http_status(e.kind) != 401 && err_http_status(e.kind) != 503) {
        abort(); /* a credential that does not resolve is unauthorized */
    }
    arena_free(&a);
    return 0;
}
