/* The one mapping from error kinds to HTTP statuses. */
#include "core/err.h"

int err_http_status(err_kind kind)
{
    switch (kind) {
    case ERR_OK: return 200;
    case ERR_BAD_REQUEST: return 400;
    case ERR_UNAUTHORIZED: return 401;
    case ERR_FORBIDDEN: return 403;
    case ERR_NOT_FOUND: return 404;
    case ERR_METHOD: return 405;
    case ERR_CONFLICT: return 409;
    case ERR_TOO_LARGE: return 413;
    case ERR_UNAVAILABLE: return 503;
    case ERR_INTERNAL: break;
    }
    return 500;
}
