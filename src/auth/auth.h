/* Authentication: the credential a request carries becomes an auth_ctx
 * (workspace, kind of credential, and for a client session its identity).
 * The context is what every scoped store call is given. */
#ifndef LATCHKEY_AUTH_H
#define LATCHKEY_AUTH_H

#include <stdint.h>

#include "auth/tokens.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

typedef enum cred_kind {
    CRED_NONE = 0,
    CRED_API_KEY = 1 << 0,
    CRED_CLIENT_SESSION = 1 << 1,
    CRED_PUBLISHABLE_KEY = 1 << 2,
} cred_kind;

/* The credential headers of a request, as the client sent them. */
typedef struct auth_headers {
    const char *authorization;             /* "Bearer <token>" */
    const char *client_session_token;      /* client-session-token */
    const char *seam_client_session_token; /* seam-client-session-token */
    const char *publishable_key;           /* seam-publishable-key */
    const char *user_identifier_key;       /* seam-user-identifier-key */
} auth_headers;

typedef struct auth_ctx {
    cred_kind kind;
    const char *workspace_id;
    /* Client session token: the caller's session. */
    const store_client_session *session;
    /* Publishable key: the seam-user-identifier-key header, if sent. */
    const char *user_identifier_key_header;
} auth_ctx;

/* The credential a request presents, by precedence: Authorization bearer,
 * client-session-token, seam-client-session-token, seam-publishable-key.
 * NULL when none. */
const char *auth_credential(const auth_headers *h);

/* Resolves the request's credential. 401 errors name why: missing,
 * unknown, expired or revoked. */
err auth_resolve(store *s, const token_keys *keys, arena *a, const auth_headers *h, int64_t now,
                 auth_ctx *out);

/* The scope of everything the caller may see: the whole workspace, or a
 * client session's holdings. */
store_scope auth_scope(const auth_ctx *ctx);

const char *cred_kind_name(cred_kind kind);

#endif
