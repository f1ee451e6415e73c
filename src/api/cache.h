/* Answers of read-only routes, kept in memory and named by a digest of
 * everything the answer depends on in the request (credential headers,
 * method, route, parameters). Each answer carries the generation of its
 * workspace it was read at (store_workspace_generation) and when the
 * credential that asked expires: it may be served again only while the
 * workspace's generation is the same and the credential has not expired.
 *
 * Bounded: the least recently used answers go when the memory is spent.
 * Safe to use from any thread. */
#ifndef LATCHKEY_API_CACHE_H
#define LATCHKEY_API_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/tokens.h"

typedef struct answer_cache answer_cache;

enum { ANSWER_WORKSPACE_ID_MAX = 64 };

typedef struct answer {
    char workspace_id[ANSWER_WORKSPACE_ID_MAX];
    int64_t generation;
    int64_t expires_at; /* ms; the credential's expiry */
    char *body;         /* malloc'd */
    size_t body_len;
} answer;

/* NULL when max_bytes is 0: nothing is cached. */
answer_cache *answer_cache_new(size_t max_bytes);
void answer_cache_free(answer_cache *c);

/* A copy of the answer named key (its body malloc'd, the caller frees it);
 * false when there is none. */
bool answer_cache_get(answer_cache *c, const unsigned char key[TOKEN_DIGEST_LEN], answer *out);
/* Keeps a copy of a (replacing any answer of that name); an answer too
 * large for the cache, or with a workspace id too long, is not kept. */
void answer_cache_put(answer_cache *c, const unsigned char key[TOKEN_DIGEST_LEN],
                      const answer *a);
/* Bytes held, for tests and statistics. */
size_t answer_cache_bytes(answer_cache *c);

#endif
