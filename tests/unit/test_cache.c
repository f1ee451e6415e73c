/* Unit tests for api/cache: answers come back as they were kept, replaced
 * by name, bounded in memory with the least recently used going first, and
 * the digests that name them differ whenever any part of a request does. */
#include <pthread.h>

#include "unit_fixtures.h"

#include "api/cache.h"

static void key_of(int n, unsigned char key[TOKEN_DIGEST_LEN])
{
    const token_keys k = {{1}, {2}};
    char text[32];
    snprintf(text, sizeof text, "request %d", n);
    token_part part = {text, strlen(text)};
    token_digest(&k, &part, 1, key);
}

static answer answer_of(const char *body, int64_t generation)
{
    answer a = {.generation = generation, .expires_at = 99, .body = (char *)body,
                .body_len = strlen(body)};
    strcpy(a.workspace_id, "ws");
    return a;
}

static void kept_and_replaced(void **state)
{
    (void)state;
    answer_cache *c = answer_cache_new(1 << 20);
    unsigned char k1[TOKEN_DIGEST_LEN], k2[TOKEN_DIGEST_LEN];
    key_of(1, k1);
    key_of(2, k2);
    answer got;
    assert_false(answer_cache_get(c, k1, &got));
    answer a = answer_of("{\"ok\":true}", 7);
    answer_cache_put(c, k1, &a);
    assert_true(answer_cache_get(c, k1, &got));
    assert_string_equal(got.body, "{\"ok\":true}");
    assert_int_equal(got.body_len, 11);
    assert_int_equal(got.generation, 7);
    assert_int_equal(got.expires_at, 99);
    assert_string_equal(got.workspace_id, "ws");
    free(got.body);
    assert_false(answer_cache_get(c, k2, &got));

    size_t before = answer_cache_bytes(c);
    answer b = answer_of("{}", 8);
    answer_cache_put(c, k1, &b);
    assert_true(answer_cache_bytes(c) < before);
    assert_true(answer_cache_get(c, k1, &got));
    assert_string_equal(got.body, "{}");
    assert_int_equal(got.generation, 8);
    free(got.body);
    answer_cache_free(c);
    assert_null(answer_cache_new(0)); /* off */
}

static void bounded_least_recently_used_first(void **state)
{
    (void)state;
    enum { LIMIT = 256 * 1024, N = 4000 };
    answer_cache *c = answer_cache_new(LIMIT);
    char body[600];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    unsigned char first[TOKEN_DIGEST_LEN];
    key_of(0, first);
    answer a = answer_of(body, 1);
    answer_cache_put(c, first, &a);
    answer got;
    for (int i = 1; i < N; i++) {
        unsigned char k[TOKEN_DIGEST_LEN];
        key_of(i, k);
        answer_cache_put(c, k, &a);
        /* the first answer is asked for all the time: it stays */
        assert_true(answer_cache_get(c, first, &got));
        free(got.body);
        assert_true(answer_cache_bytes(c) <= LIMIT);
    }
    /* the oldest of the others are gone, the newest are there */
    unsigned char k[TOKEN_DIGEST_LEN];
    key_of(1, k);
    assert_false(answer_cache_get(c, k, &got));
    key_of(N - 1, k);
    assert_true(answer_cache_get(c, k, &got));
    free(got.body);
    /* an answer too large for its share is not kept */
    char *big = malloc(LIMIT);
    memset(big, 'y', LIMIT - 1);
    big[LIMIT - 1] = '\0';
    answer huge = answer_of(big, 1);
    key_of(N, k);
    answer_cache_put(c, k, &huge);
    assert_false(answer_cache_get(c, k, &got));
    free(big);
    answer_cache_free(c);
}

static void digests_tell_requests_apart(void **state)
{
    (void)state;
    const token_keys k = {{1}, {2}};
    unsigned char d[4][TOKEN_DIGEST_LEN];
    /* the same bytes cut differently, a NULL, and an empty text */
    token_part ab_c[] = {{"ab", 2}, {"c", 1}};
    token_part a_bc[] = {{"a", 1}, {"bc", 2}};
    token_part with_null[] = {{"a", 1}, {NULL, 0}};
    token_part with_empty[] = {{"a", 1}, {"", 0}};
    token_digest(&k, ab_c, 2, d[0]);
    token_digest(&k, a_bc, 2, d[1]);
    token_digest(&k, with_null, 2, d[2]);
    token_digest(&k, with_empty, 2, d[3]);
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            assert_memory_not_equal(d[i], d[j], TOKEN_DIGEST_LEN);
    /* another server secret names the same request differently */
    const token_keys other = {{3}, {2}};
    unsigned char e[TOKEN_DIGEST_LEN];
    token_digest(&other, ab_c, 2, e);
    assert_memory_not_equal(d[0], e, TOKEN_DIGEST_LEN);
}

typedef struct hammer {
    answer_cache *c;
    int wrong; /* answers that were not their name's (cmocka asserts on the main thread only) */
} hammer;

static void *hammer_run(void *p)
{
    hammer *h = p;
    char body[64];
    for (int i = 0; i < 20000; i++) {
        unsigned char k[TOKEN_DIGEST_LEN];
        key_of(i % 500, k);
        snprintf(body, sizeof body, "answer %d", i % 500);
        answer a = answer_of(body, i % 500);
        answer got;
        if (answer_cache_get(h->c, k, &got)) {
            /* whoever kept it, the answer under a name is that name's */
            h->wrong += strcmp(got.body, body) != 0;
            free(got.body);
        } else {
            answer_cache_put(h->c, k, &a);
        }
    }
    return NULL;
}

static void concurrent_use(void **state)
{
    (void)state;
    answer_cache *c = answer_cache_new(64 * 1024);
    pthread_t t[4];
    hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){c, 0};
        pthread_create(&t[i], NULL, hammer_run, &h[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(h[i].wrong, 0);
    }
    assert_true(answer_cache_bytes(c) <= 64 * 1024);
    answer_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kept_and_replaced),
        cmocka_unit_test(bounded_least_recently_used_first),
        cmocka_unit_test(digests_tell_requests_apart),
        cmocka_unit_test(concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
