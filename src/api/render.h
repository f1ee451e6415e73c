/* Resources as the API shows them: one function per resource type, each
 * returning a new jansson object in the OpenAPI schema's shape. */
#ifndef LATCHKEY_RENDER_H
#define LATCHKEY_RENDER_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

json_t *render_time(int64_t ms);
json_t *render_workspace(const store_workspace *w);
/* token: the session's token in the clear (unsealed by the caller). */
json_t *render_client_session(const store_client_session *cs, const char *token);
json_t *render_device(const store_device *d);

#endif
