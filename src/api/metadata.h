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
 * remove keys. Returns the new serialized object in the arena, or NULL when
 * the result would have more keys than allowed. */
const char *metadata_merge(arena *a, const char *stored, json_t *changes);
/* An object whose custom_metadata (and other fields) one request changes. */
typedef struct metadata_target {
    /* The stored custom_metadata of the object, in scope, read for update:
     * the row stays locked until the transaction ends. */
    err (*read)(api_call *c, store *s, void *obj, const char **stored);
    /* Writes merged (NULL: metadata unchanged) and the other changes. */
    err (*write)(api_call *c, store *s, void *obj, const char *merged);
    void *obj;
} metadata_target;

/* Reads, merges changes (NULL: none) and writes in one transaction, so
 * that concurrent updates of other keys are never lost and the key limit
 * holds for the merged result (invalid_input on custom_metadata if not). */
err metadata_update(api_call *c, json_t *changes, const metadata_target *t);
/* custom_metadata_has: NULL when not given. */
const metadata_filter *metadata_filter_read(api_call *c, const char *key);

#endif
