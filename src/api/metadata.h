/* custom_metadata: reading it from a request (string or boolean values, at
 * most 50 keys of at most 40 characters, values of at most 500), merging a
 * change into what is stored, and the custom_metadata_has filter. */
#ifndef LATCHKEY_METADATA_H
#define LATCHKEY_METADATA_H

#include "api/handler.h"

/* custom_metadata to set: *out is NULL when not given. With allow_null, a
 * null value (which removes the key on merge) is accepted. */
void metadata_read(api_call *c, const char *key, bool allow_null, json_t **out);
/* The stored object (serialized, or NULL) with changes applied: null values
 * remove keys. Returns the new serialized object in the arena. */
const char *metadata_merge(arena *a, const char *stored, json_t *changes);
/* custom_metadata_has: NULL when not given. */
const metadata_filter *metadata_filter_read(api_call *c, const char *key);

#endif
