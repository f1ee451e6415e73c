/* Unit tests for auth/tokens: the shapes of fresh API keys, client session
 * tokens and publishable keys, classification by prefix, keyed lookup
 * hashes, sealing for tokens at rest, and constant-time comparison. */
#include "unit_fixtures.h"

#include "auth/tokens.h"

static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void keys_from_byte(unsigned char b, token_keys *k)
{
    unsigned char secret[SERVER_SECRET_LEN];
    memset(secret, b, sizeof secret);
    token_keys_derive(secret, k);
}

static bool all_base62(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(BASE62, s[i]))
            return false;
    return true;
}

static void assert_base62(const char *s, size_t n)
{
    if (!all_base62(s, n) || strlen(s) != n)
        fail_msg("not %zu base62 characters: '%s'", n, s);
}

/* ---- formats ---- */

/* 200 fresh tokens from mint: prefix, then random_len base62 characters. */
static void assert_fresh_tokens(arena *a, char *(*mint)(arena *), const char *prefix,
                                size_t random_len)
{
    size_t plen = strlen(prefix);
    for (int i = 0; i < 200; i++) {
        const char *t = mint(a);
        assert_non_null(t);
        assert_int_equal(strlen(t), plen + random_len);
        assert_memory_equal(t, prefix, plen);
        assert_base62(t + plen, random_len);
    }
}

static void api_key_format(void **state)
{
    arena *a = *state;
    for (int i = 0; i < 200; i++) {
        const char *t = token_new_api_key(a);
        assert_non_null(t);
        assert_int_equal(strlen(t), 5 + 8 + 1 + 32);
        assert_memory_equal(t, "seam_", 5);
        assert_base62(arena_strndup(a, t + 5, 8), 8);
        assert_int_equal(t[13], '_');
        assert_base62(t + 14, 32);
    }
}

static void client_session_token_format(void **state)
{
    assert_fresh_tokens(*state, token_new_client_session, "seam_cst1_", 40);
}

static void publishable_key_format(void **state)
{
    assert_fresh_tokens(*state, token_new_publishable_key, "seam_pk1_", 32);
}

static void prefixes_match_header(void **state)
{
    arena *a = *state;
    const char *k = token_new_api_key(a);
    const char *c = token_new_client_session(a);
    const char *p = token_new_publishable_key(a);
    assert_memory_equal(k, API_KEY_PREFIX, strlen(API_KEY_PREFIX));
    assert_memory_equal(c, CLIENT_SESSION_TOKEN_PREFIX, strlen(CLIENT_SESSION_TOKEN_PREFIX));
    assert_memory_equal(p, PUBLISHABLE_KEY_PREFIX, strlen(PUBLISHABLE_KEY_PREFIX));
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void assert_all_distinct(const char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) == 0)
            fail_msg("duplicate token %s", v[i]);
}

enum { DRAWS = 5000 };

static void tokens_unique(void **state)
{
    arena *a = *state;
    const char **v = arena_alloc(a, DRAWS * sizeof *v);
    for (size_t i = 0; i < DRAWS; i++)
        v[i] = token_new_api_key(a);
    assert_all_distinct(v, DRAWS);
    for (size_t i = 0; i < DRAWS; i++)
        v[i] = token_new_client_session(a);
    assert_all_distinct(v, DRAWS);
    for (size_t i = 0; i < DRAWS; i++)
        v[i] = token_new_publishable_key(a);
    assert_all_distinct(v, DRAWS);
    /* the short part of API keys (62^8) is also unique over this many */
    for (size_t i = 0; i < DRAWS; i++)
        v[i] = arena_strndup(a, token_new_api_key(a) + 5, 8);
    assert_all_distinct(v, DRAWS);
}

static void tokens_use_whole_alphabet(void **state)
{
    /* Every base62 character turns up, roughly uniformly. */
    arena *a = *state;
    size_t count[256] = {0}, total = 0;
    for (int i = 0; i < 5000; i++) {
        const char *t = token_new_client_session(a) + 10;
        for (; *t; t++, total++)
            count[(unsigned char)*t]++;
    }
    double expect = (double)total / 62;
    for (const char *c = BASE62; *c; c++) {
        size_t n = count[(unsigned char)*c];
        if (n < expect * 0.8 || n > expect * 1.2)
            fail_msg("'%c' drawn %zu times, expected about %.0f", *c, n, expect);
    }
}

/* ---- classification ---- */

static void classify_fresh_tokens(void **state)
{
    arena *a = *state;
    assert_int_equal(token_classify(token_new_client_session(a)), TOKEN_CLIENT_SESSION);
    assert_int_equal(token_classify(token_new_publishable_key(a)), TOKEN_PUBLISHABLE_KEY);
    assert_int_equal(token_classify(token_new_api_key(a)), TOKEN_API_KEY);
}

static void classify_every_fresh_api_key(void **state)
{
    /* A key we just minted must be recognised as an API key. Its first
     * random group is 8 base62 characters, so about 1 in 1,900 begins with
     * "pk" or "at" (or "cst") and collides with another prefix: over 40,000
     * draws about 21 are expected, none missed with odds of about 1e-9. */
    arena *a = *state;
    int bad = 0;
    const char *example = NULL;
    for (int i = 0; i < 40000; i++) {
        arena scratch;
        arena_init(&scratch);
        const char *t = token_new_api_key(&scratch);
        if (token_classify(t) != TOKEN_API_KEY) {
            if (!example)
                example = arena_strdup(a, t);
            bad++;
        }
        arena_free(&scratch);
    }
    if (bad)
        fail_msg("%d of 40000 fresh API keys not classified as API keys, e.g. %s", bad, example);
}

static void classify_by_prefix(void **state)
{
    (void)state;
    assert_int_equal(token_classify("seam_cst1_abc"), TOKEN_CLIENT_SESSION);
    assert_int_equal(token_classify("seam_pk1_abc"), TOKEN_PUBLISHABLE_KEY);
    assert_int_equal(token_classify("seam_test2bMS_94SrGUXuNR2JmJkjtvBQDg5c"), TOKEN_API_KEY);
    assert_int_equal(token_classify("seam_abcdefgh_0123456789abcdefghijABCDEFGHIJ0123"), TOKEN_API_KEY);
}

static void classify_malformed(void **state)
{
    (void)state;
    assert_int_equal(token_classify(NULL), TOKEN_MALFORMED);
    assert_int_equal(token_classify(""), TOKEN_MALFORMED);
    assert_int_equal(token_classify("seam"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("seam_at1_abcdef"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("seam_at_abcdef"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("SEAM_cst1_abc"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("Bearer seam_cst1_abc"), TOKEN_MALFORMED);
    assert_int_equal(token_classify(" seam_cst1_abc"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("sk_live_abcdef"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("eyJhbGciOiJIUzI1NiJ9.e30.x"), TOKEN_MALFORMED);
    assert_int_equal(token_classify("seamcst1_abc"), TOKEN_MALFORMED);
}

static void classify_overly_long(void **state)
{
    arena *a = *state;
    const char *kinds[] = {"seam_cst1_", "seam_pk1_", "seam_abcdefgh_"};
    for (size_t k = 0; k < 3; k++) {
        size_t plen = strlen(kinds[k]);
        char *t = arena_alloc(a, 4097);
        memcpy(t, kinds[k], plen);
        memset(t + plen, 'x', 4096 - plen);
        t[4096] = '\0';
        assert_int_equal(token_classify(t), TOKEN_MALFORMED);
        t[1024] = '\0';
        assert_int_equal(token_classify(t), TOKEN_MALFORMED);
        /* a little longer than fresh tokens is still classified */
        t[60] = '\0';
        assert_int_not_equal(token_classify(t), TOKEN_MALFORMED);
    }
}

/* ---- lookup hashes ---- */

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex_digit(s[i]))
            return false;
    return true;
}

/* The lookup hash of t with k, in the arena. */
static const char *hash_of(arena *a, const token_keys *k, const char *t)
{
    char h[TOKEN_HASH_HEX_LEN];
    token_hash(k, t, h);
    return arena_strdup(a, h);
}

static void hash_shape_and_determinism(void **state)
{
    arena *a = *state;
    token_keys k, k2;
    keys_from_byte(7, &k);
    keys_from_byte(7, &k2);
    const char *t = token_new_api_key(a);
    const char *h1 = hash_of(a, &k, t);
    assert_int_equal(strlen(h1), 64);
    assert_true(is_lower_hex(h1, 64));
    assert_string_equal(h1, hash_of(a, &k, t));
    assert_string_equal(h1, hash_of(a, &k2, t));
    /* hashing an empty string is defined too */
    const char *empty = hash_of(a, &k, "");
    assert_int_equal(strlen(empty), 64);
    assert_string_not_equal(h1, empty);
}

static void hash_depends_on_secret_and_token(void **state)
{
    arena *a = *state;
    token_keys k1, k2;
    keys_from_byte(1, &k1);
    keys_from_byte(2, &k2);
    const char *t = token_new_client_session(a);
    const char *h1 = hash_of(a, &k1, t);
    assert_string_not_equal(h1, hash_of(a, &k2, t));
    char *t2 = arena_strdup(a, t);
    t2[strlen(t2) - 1] = t2[strlen(t2) - 1] == 'a' ? 'b' : 'a';
    assert_string_not_equal(h1, hash_of(a, &k1, t2));
    /* not the plain, unkeyed BLAKE2b of the token */
    unsigned char raw[32];
    char plain[65];
    crypto_generichash(raw, sizeof raw, (const unsigned char *)t, strlen(t), NULL, 0);
    sodium_bin2hex(plain, sizeof plain, raw, sizeof raw);
    assert_string_not_equal(h1, plain);
}

static void derived_keys_independent(void **state)
{
    (void)state;
    token_keys k1, k2;
    keys_from_byte(3, &k1);
    keys_from_byte(4, &k2);
    assert_memory_not_equal(k1.hash_key, k1.seal_key, 32);
    assert_memory_not_equal(k1.hash_key, k2.hash_key, 32);
    assert_memory_not_equal(k1.seal_key, k2.seal_key, 32);
    unsigned char secret[SERVER_SECRET_LEN];
    memset(secret, 3, sizeof secret);
    assert_memory_not_equal(k1.hash_key, secret, 32);
    assert_memory_not_equal(k1.seal_key, secret, 32);
}

/* ---- sealing ---- */

static void seal_round_trip(void **state)
{
    arena *a = *state;
    token_keys k;
    keys_from_byte(9, &k);
    const char *tokens[] = {token_new_client_session(a), token_new_api_key(a), "x", "",
                            "with spaces and ünïcode"};
    for (size_t i = 0; i < COUNT_OF(tokens); i++) {
        char *sealed = token_seal(a, &k, tokens[i]);
        assert_non_null(sealed);
        char *opened = token_unseal(a, &k, sealed);
        assert_non_null(opened);
        assert_string_equal(opened, tokens[i]);
    }
}

static void sealed_text_is_url_safe_and_hides_token(void **state)
{
    arena *a = *state;
    token_keys k;
    keys_from_byte(9, &k);
    const char *t = token_new_client_session(a);
    char *sealed = token_seal(a, &k, t);
    assert_true(strlen(sealed) > strlen(t));
    for (const char *c = sealed; *c; c++)
        if (!strchr(BASE62, *c) && *c != '-' && *c != '_')
            fail_msg("'%c' in sealed text %s", *c, sealed);
    assert_null(strstr(sealed, t + 10));
}

static void seal_twice_differs(void **state)
{
    arena *a = *state;
    token_keys k;
    keys_from_byte(9, &k);
    const char *t = token_new_client_session(a);
    char *s1 = token_seal(a, &k, t), *s2 = token_seal(a, &k, t);
    assert_string_not_equal(s1, s2);
    assert_string_equal(token_unseal(a, &k, s1), t);
    assert_string_equal(token_unseal(a, &k, s2), t);
}

static void unseal_with_other_keys_fails(void **state)
{
    arena *a = *state;
    token_keys k1, k2;
    keys_from_byte(1, &k1);
    keys_from_byte(2, &k2);
    char *sealed = token_seal(a, &k1, token_new_client_session(a));
    assert_null(token_unseal(a, &k2, sealed));
    /* keys with the same seal key but another hash key still open it */
    token_keys k3 = k1;
    memset(k3.hash_key, 0, sizeof k3.hash_key);
    assert_non_null(token_unseal(a, &k3, sealed));
    /* and a changed seal key does not */
    k3 = k1;
    k3.seal_key[31] ^= 1;
    assert_null(token_unseal(a, &k3, sealed));
}

static void unseal_tampered_fails(void **state)
{
    arena *a = *state;
    token_keys k;
    keys_from_byte(5, &k);
    char *sealed = token_seal(a, &k, token_new_client_session(a));
    size_t n = strlen(sealed);
    /* every single-character substitution is caught */
    for (size_t i = 0; i < n; i++) {
        char *t = arena_strdup(a, sealed);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        char *opened = token_unseal(a, &k, t);
        if (opened)
            fail_msg("tampered at %zu, still opened: %s", i, opened);
    }
    /* truncated, extended, doubled */
    assert_null(token_unseal(a, &k, arena_strndup(a, sealed, n - 1)));
    assert_null(token_unseal(a, &k, arena_strndup(a, sealed, n / 2)));
    assert_null(token_unseal(a, &k, arena_sprintf(a, "%sAAAA", sealed)));
    assert_null(token_unseal(a, &k, arena_sprintf(a, "%s%s", sealed, sealed)));
}

static void unseal_garbage_fails(void **state)
{
    arena *a = *state;
    token_keys k;
    keys_from_byte(5, &k);
    const char *garbage[] = {"", "A", "AA", "not base64!", "seam_cst1_abc", "====",
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/"};
    for (size_t i = 0; i < COUNT_OF(garbage); i++)
        if (token_unseal(a, &k, garbage[i]))
            fail_msg("garbage '%s' unsealed", garbage[i]);
    /* nonce and MAC only, no message: long enough to parse, but forged */
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES] = {0};
    assert_null(token_unseal(a, &k, b64url_encode(a, box, sizeof box)));
}

/* ---- comparison ---- */

static void equal_compares_whole_strings(void **state)
{
    (void)state;
    assert_true(token_equal("", ""));
    assert_true(token_equal("seam_cst1_abc", "seam_cst1_abc"));
    assert_false(token_equal("seam_cst1_abc", "seam_cst1_abd"));
    assert_false(token_equal("seam_cst1_abc", "Seam_cst1_abc"));
    assert_false(token_equal("seam_cst1_abc", "seam_cst1_ab"));
    assert_false(token_equal("seam_cst1_ab", "seam_cst1_abc"));
    assert_false(token_equal("", "x"));
    assert_false(token_equal("x", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ARENA_TEST(api_key_format),
        ARENA_TEST(client_session_token_format),
        ARENA_TEST(publishable_key_format),
        ARENA_TEST(prefixes_match_header),
        ARENA_TEST(tokens_unique),
        ARENA_TEST(tokens_use_whole_alphabet),
        ARENA_TEST(classify_fresh_tokens),
        ARENA_TEST(classify_every_fresh_api_key),
        ARENA_TEST(classify_by_prefix),
        ARENA_TEST(classify_malformed),
        ARENA_TEST(classify_overly_long),
        ARENA_TEST(hash_shape_and_determinism),
        ARENA_TEST(hash_depends_on_secret_and_token),
        ARENA_TEST(derived_keys_independent),
        ARENA_TEST(seal_round_trip),
        ARENA_TEST(sealed_text_is_url_safe_and_hides_token),
        ARENA_TEST(seal_twice_differs),
        ARENA_TEST(unseal_with_other_keys_fails),
        ARENA_TEST(unseal_tampered_fails),
        ARENA_TEST(unseal_garbage_fails),
        ARENA_TEST(equal_compares_whole_strings),
    };
    return cmocka_run_group_tests(tests, sodium_group_setup, NULL);
}
