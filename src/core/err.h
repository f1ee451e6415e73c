/* Errors as values. An err carries a kind (mapped to an HTTP status in one
 * place, err_http_status), the API error type string and a message.
 * ERR_OK (kind 0) means success; messages are static or arena strings. */
#ifndef LATCHKEY_ERR_H
#define LATCHKEY_ERR_H

#include <stdbool.h>

typedef enum err_kind {
    ERR_OK = 0,
    ERR_BAD_REQUEST,    /* 400: invalid input or a rule of the resource */
    ERR_UNAUTHORIZED,   /* 401: no, unknown, expired or revoked credential */
    ERR_FORBIDDEN,      /* 403: credential not allowed here */
    ERR_NOT_FOUND,      /* 404: absent or outside the caller's scope */
    ERR_METHOD,         /* 405 */
    ERR_CONFLICT,       /* 409: the change conflicts with what exists */
    ERR_TOO_LARGE,      /* 413 */
    ERR_INTERNAL,       /* 500: our own fault */
    ERR_UNAVAILABLE,    /* 503: shutting down, store busy */
} err_kind;

typedef struct err {
    err_kind kind;
    const char *type;
    const char *message;
} err;

#define ERR_NONE ((err){ERR_OK, NULL, NULL})

static inline err err_make(err_kind kind, const char *type, const char *message)
{
    return (err){kind, type, message};
}

static inline bool err_failed(err e) { return e.kind != ERR_OK; }

int err_http_status(err_kind kind);

#endif
