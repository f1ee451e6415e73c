/* Token generation, lookup hashing and sealing on libsodium (tokens.h). */
#include "auth/tokens.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void token_keys_derive(const unsigned char secret[SERVER_SECRET_LEN], token_keys *k)
{
    crypto_kdf_derive_from_key(k->hash_key, sizeof k->hash_key, 1, "lk_hash_", secret);
    crypto_kdf_derive_from_key(k->seal_key, sizeof k->seal_key, 2, "lk_seal_", secret);
}

static void random_base62(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = BASE62[randombytes_uniform(62)];
}

/* prefix, then for each group its random characters, groups joined by '_'. */
static char *token_build(arena *a, const char *prefix, const size_t *groups, size_t ngroups)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < ngroups; i++)
        len += 1 + groups[i];
    char *t = arena_alloc(a, len + 1);
    size_t at = strlen(prefix);
    memcpy(t, prefix, at);
    for (size_t i = 0; i < ngroups; i++) {
        t[at++] = '_';
        random_base62(t + at, groups[i]);
        at += groups[i];
    }
    t[at] = '\0';
    return t;
}

char *token_new_api_key(arena *a)
{
    static const size_t groups[] = {8, 32};
    /* A random start such as "pk" or "cst" would make it read (here and in
     * the SDKs) as another kind of credential: draw again. */
    char *t;
    do
        t = token_build(a, "seam", groups, 2);
    while (token_classify(t) != TOKEN_API_KEY);
    return t;
}

char *token_new_client_session(arena *a)
{
    static const size_t groups[] = {40};
    return token_build(a, "seam_cst1", groups, 1);
}

char *token_new_publishable_key(arena *a)
{
    static const size_t groups[] = {32};
    return token_build(a, "seam_pk1", groups, 1);
}

char *token_new_url_secret(arena *a)
{
    char *t = arena_alloc(a, 33);
    random_base62(t, 32);
    t[32] = '\0';
    return t;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

token_kind token_classify(const char *token)
{
    if (!token || !has_prefix(token, API_KEY_PREFIX) || strlen(token) > 512)
        return TOKEN_MALFORMED;
    if (has_prefix(token, CLIENT_SESSION_TOKEN_PREFIX))
        return TOKEN_CLIENT_SESSION;
    if (has_prefix(token, PUBLISHABLE_KEY_PREFIX))
        return TOKEN_PUBLISHABLE_KEY;
    if (has_prefix(token, "seam_at"))
        return TOKEN_MALFORMED; /* personal access tokens: not served here */
    return TOKEN_API_KEY;
}

void token_hash(const token_keys *k, const char *token, char out[TOKEN_HASH_HEX_LEN])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), k->hash_key,
                       sizeof k->hash_key);
    sodium_bin2hex(out, TOKEN_HASH_HEX_LEN, h, sizeof h);
}

void token_digest(const token_keys *k, const token_part *parts, size_t n,
                  unsigned char out[TOKEN_DIGEST_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->hash_key, sizeof k->hash_key, TOKEN_DIGEST_LEN);
    for (size_t i = 0; i < n; i++) {
        /* the length, or all ones for NULL, then the text */
        uint64_t len = parts[i].text ? (uint64_t)parts[i].len : UINT64_MAX;
        unsigned char prefix[8];
        for (int b = 0; b < 8; b++)
            prefix[b] = (unsigned char)(len >> (8 * b));
        crypto_generichash_update(&st, prefix, sizeof prefix);
        if (parts[i].text)
            crypto_generichash_update(&st, (const unsigned char *)parts[i].text, parts[i].len);
    }
    crypto_generichash_final(&st, out, TOKEN_DIGEST_LEN);
}

char *token_seal(arena *a, const token_keys *k, const char *token)
{
    size_t mlen = strlen(token);
    size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + mlen;
    unsigned char *box = arena_alloc(a, blen);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)token, mlen,
                          box, k->seal_key);
    size_t olen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(a, olen);
    sodium_bin2base64(out, olen, box, blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

char *token_unseal(arena *a, const token_keys *k, const char *sealed)
{
    size_t slen = strlen(sealed);
    unsigned char *box = arena_alloc(a, slen + 1);
    size_t blen = 0;
    if (sodium_base642bin(box, slen + 1, sealed, slen, NULL, &blen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return NULL;
    size_t mlen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *out = arena_alloc(a, mlen + 1);
    if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                   blen - crypto_secretbox_NONCEBYTES, box, k->seal_key) != 0)
        return NULL;
    out[mlen] = '\0';
    return out;
}

bool token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}
