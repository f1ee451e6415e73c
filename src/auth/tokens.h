/* Secrets handed to clients: generation (libsodium CSPRNG), the keyed
 * BLAKE2b hash by which they are looked up, and sealing (secretbox) for
 * client session tokens, which the API must be able to show again. */
#ifndef LATCHKEY_TOKENS_H
#define LATCHKEY_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

#define SERVER_SECRET_LEN 32
#define TOKEN_HASH_HEX_LEN 65

typedef struct token_keys {
    unsigned char hash_key[32];
    unsigned char seal_key[32];
} token_keys;

typedef enum token_kind {
    TOKEN_MALFORMED,
    TOKEN_API_KEY,
    TOKEN_CLIENT_SESSION,
    TOKEN_PUBLISHABLE_KEY,
} token_kind;

#define API_KEY_PREFIX "seam_"
#define CLIENT_SESSION_TOKEN_PREFIX "seam_cst"
#define PUBLISHABLE_KEY_PREFIX "seam_pk"

/* Derives independent hashing and sealing keys from the server secret. */
void token_keys_derive(const unsigned char secret[SERVER_SECRET_LEN], token_keys *k);

/* Fresh secrets: "seam_<8>_<32>" API keys, "seam_cst1_<40>" client session
 * tokens, "seam_pk1_<32>" publishable keys (base62, >= 190 random bits). */
char *token_new_api_key(arena *a);
char *token_new_client_session(arena *a);
char *token_new_publishable_key(arena *a);
/* A secret for a URL (a connect webview's auth_token): 32 base62 characters. */
char *token_new_url_secret(arena *a);

/* Which credential a string claims to be, by its prefix. */
token_kind token_classify(const char *token);

void token_hash(const token_keys *k, const char *token, char out[TOKEN_HASH_HEX_LEN]);
/* A keyed BLAKE2b digest of several texts, each with its length, so that
 * no two different lists give the same input: how a request that carries a
 * credential is named without keeping the credential. A NULL text differs
 * from "". */
enum { TOKEN_DIGEST_LEN = 32 };
typedef struct token_part {
    const char *text;
    size_t len;
} token_part;
void token_digest(const token_keys *k, const token_part *parts, size_t n,
                  unsigned char out[TOKEN_DIGEST_LEN]);
/* base64url(nonce || secretbox(token)); token_unseal returns NULL when the
 * text was not sealed with these keys. */
char *token_seal(arena *a, const token_keys *k, const char *token);
char *token_unseal(arena *a, const token_keys *k, const char *sealed);

/* Compares two strings in time independent of where they differ. */
bool token_equal(const char *a, const char *b);

#endif
