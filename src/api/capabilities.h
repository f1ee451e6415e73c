/* Accepted device capabilities (lock, thermostat, ...) of connect webviews
 * and connected accounts: read from a request, stored comma-separated,
 * rendered as a list. */
#ifndef LATCHKEY_API_CAPABILITIES_H
#define LATCHKEY_API_CAPABILITIES_H

#include <jansson.h>

#include "api/handler.h"
#include "providers/provider.h"

/* The capability a provider's devices have ("lock", "thermostat"). */
const char *capability_of(const provider *p);
/* key's list, checked against the OpenAPI's values, comma-separated; NULL
 * when not given (a problem recorded when it is not acceptable). */
const char *capabilities_read(api_call *c, const char *key);
/* Whether the stored list (NULL: any) holds the capability. */
bool capabilities_hold(const char *stored, const char *capability);
/* The stored list as JSON; when NULL, the capabilities of the providers
 * (comma-separated names), in the OpenAPI's order. */
json_t *capabilities_render(const char *stored, const char *providers);

#endif
