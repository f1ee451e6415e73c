/* Unit tests for core/ids (UUIDv4 generation and syntax check) and
 * core/arena (the per-request bump allocator). */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit_fixtures.h"

#include "core/arena.h"
#include "core/ids.h"

/* ---- UUIDs ---- */

static void uuid_v4_format(void **state)
{
    (void)state;
    for (int n = 0; n < 2000; n++) {
        char u[UUID_STR_LEN];
        memset(u, '#', sizeof u);
        uuid_v4(u);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                assert_int_equal(u[i], '-');
            } else if (!is_lower_hex_digit(u[i])) {
                fail_msg("'%c' at %d in %s", u[i], i, u);
            }
        }
        assert_int_equal(u[14], '4');                  /* version 4 */
        assert_non_null(strchr("89ab", u[19]));         /* RFC 4122 variant 10xx */
        assert_true(uuid_is_valid(u));
    }
}

static int cmp_uuid(const void *x, const void *y) { return memcmp(x, y, UUID_STR_LEN); }

static void uuid_v4_unique_and_random(void **state)
{
    (void)state;
    enum { N = 50000 };
    char(*v)[UUID_STR_LEN] = malloc(N * sizeof *v);
    assert_non_null(v);
    unsigned variant[4] = {0};
    for (int i = 0; i < N; i++) {
        uuid_v4(v[i]);
        variant[strchr("89ab", v[i][19]) - "89ab"]++;
    }
    /* the two free bits of the variant nibble are random */
    for (int i = 0; i < 4; i++)
        assert_true(variant[i] > N / 4 * 0.9 && variant[i] < N / 4 * 1.1);
    qsort(v, N, sizeof *v, cmp_uuid);
    for (int i = 1; i < N; i++)
        if (memcmp(v[i - 1], v[i], UUID_STR_LEN) == 0)
            fail_msg("duplicate %s", v[i]);
    free(v);
}

static void uuid_valid(void **state)
{
    (void)state;
    assert_true(uuid_is_valid("00000000-0000-0000-0000-000000000000"));
    assert_true(uuid_is_valid("123e4567-e89b-42d3-a456-426614174000"));
    assert_true(uuid_is_valid("ffffffff-ffff-4fff-bfff-ffffffffffff"));
}

static void uuid_invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        NULL,
        "",
        "123e4567",
        "123e4567-e89b-42d3-a456-42661417400",    /* 35 */
        "123e4567-e89b-42d3-a456-4266141740000",  /* 37 */
        "123e4567e89b42d3a456426614174000",       /* no hyphens */
        "123e4567-e89b-42d3-a456_426614174000",
        "123e4567-e89b-42d3-a4564-26614174000",   /* hyphen moved */
        "123e456-7e89b-42d3-a456-426614174000",
        "g23e4567-e89b-42d3-a456-426614174000",
        "123e4567-e89b-42d3-a456-42661417400z",
        " 23e4567-e89b-42d3-a456-426614174000",
        "123e4567-e89b-42d3-a456-426614174000 ",
        "{123e4567-e89b-42d3-a456-426614174000}",
        "123e4567-e89b-42d3-a456-4266141740\xc3\xa9",
        "------------------------------------",
        "' OR 1=1 --                         ",
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++)
        if (uuid_is_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i] ? bad[i] : "(null)");
}

static void uuid_embedded_nul(void **state)
{
    (void)state;
    char u[UUID_STR_LEN];
    uuid_v4(u);
    assert_true(uuid_is_valid(u));
    u[20] = '\0';
    assert_false(uuid_is_valid(u));
}

/* ---- arena ---- */

static void arena_alignment(void **state)
{
    arena *a = *state;
    const size_t align = _Alignof(max_align_t);
    const size_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 4095, 4096, 4097, 10000};
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < COUNT_OF(sizes); i++) {
            void *p = arena_alloc(a, sizes[i]);
            assert_non_null(p);
            if ((uintptr_t)p % align != 0)
                fail_msg("%zu-byte allocation at %p not %zu-aligned", sizes[i], p, align);
            /* the memory is usable for the strictest type */
            if (sizes[i] >= sizeof(long double)) {
                *(long double *)p = 1.5L;
                assert_true(*(long double *)p == 1.5L);
            }
        }
    }
    char *s = arena_strdup(a, "odd");
    void *after = arena_alloc(a, sizeof(long double));
    assert_non_null(s);
    assert_int_equal((uintptr_t)after % align, 0);
}

static void arena_allocations_do_not_overlap(void **state)
{
    arena *a = *state;
    enum { N = 3000 };
    unsigned char **ptrs = malloc(N * sizeof *ptrs);
    size_t *lens = malloc(N * sizeof *lens);
    assert_non_null(ptrs);
    assert_non_null(lens);
    for (size_t i = 0; i < N; i++) {
        lens[i] = (i * 37) % 700 + 1;
        if (i % 500 == 0)
            lens[i] = 70000; /* now and then, something bigger than a block */
        ptrs[i] = arena_alloc(a, lens[i]);
        memset(ptrs[i], (int)(i & 0xff), lens[i]);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < lens[i]; j++)
            if (ptrs[i][j] != (unsigned char)(i & 0xff))
                fail_msg("allocation %zu overwritten at byte %zu", i, j);
    free(ptrs);
    free(lens);
}

static void arena_large_allocations(void **state)
{
    arena *a = *state;
    const size_t sizes[] = {4096, 4097, 65536, 1 << 20, 16 << 20};
    for (size_t i = 0; i < COUNT_OF(sizes); i++) {
        unsigned char *p = arena_alloc(a, sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        p[0] = 1;
        p[sizes[i] - 1] = 2;
        memset(p, 0xab, sizes[i]);
        /* small allocations keep working after a large one */
        char *s = arena_strdup(a, "after");
        assert_string_equal(s, "after");
        assert_true(p[sizes[i] - 1] == 0xab);
    }
}

static void arena_zalloc_zeroes(void **state)
{
    arena *a = *state;
    /* dirty what we can first, so zeroes are not malloc's luck */
    for (int i = 0; i < 10; i++)
        memset(arena_alloc(a, 1000), 0xff, 1000);
    for (size_t n = 1; n < 20000; n = n * 3 + 1) {
        unsigned char *p = arena_zalloc(a, n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xff, n);
    }
}

static void arena_zero_size(void **state)
{
    arena *a = *state;
    void *p = arena_alloc(a, 0);
    void *q = arena_alloc(a, 1);
    assert_non_null(q);
    (void)p;
    *(char *)q = 'x';
}

static void arena_strdup_copies(void **state)
{
    arena *a = *state;
    char src[] = "front door";
    char *d = arena_strdup(a, src);
    assert_string_equal(d, "front door");
    assert_ptr_not_equal(d, src);
    src[0] = 'F';
    assert_string_equal(d, "front door");
    assert_string_equal(arena_strdup(a, ""), "");
    assert_null(arena_strdup(a, NULL));
}

static void arena_strndup_stops(void **state)
{
    arena *a = *state;
    assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(arena_strndup(a, "abcdef", 0), "");
    assert_string_equal(arena_strndup(a, "abcdef", 6), "abcdef");
    /* not NUL-terminated input */
    const char raw[4] = {'w', 'x', 'y', 'z'};
    assert_string_equal(arena_strndup(a, raw, 4), "wxyz");
}

static void arena_strdup_long(void **state)
{
    arena *a = *state;
    size_t n = 100000;
    char *src = malloc(n + 1);
    assert_non_null(src);
    for (size_t i = 0; i < n; i++)
        src[i] = (char)('a' + i % 26);
    src[n] = '\0';
    char *d = arena_strdup(a, src);
    assert_string_equal(d, src);
    free(src);
}

static void arena_sprintf_formats(void **state)
{
    arena *a = *state;
    assert_string_equal(arena_sprintf(a, "%s-%d-%05.1f-%c", "x", -42, 3.14159, 'z'),
                        "x--42-003.1-z");
    assert_string_equal(arena_sprintf(a, "%s", ""), "");
    assert_string_equal(arena_sprintf(a, "%lld", (long long)INT64_MIN), "-9223372036854775808");
    assert_string_equal(arena_sprintf(a, "%zu%%", (size_t)100), "100%");
    /* longer than a block */
    char *big = arena_sprintf(a, "%0*d|%s", 20000, 7, "end");
    assert_int_equal(strlen(big), 20004);
    assert_int_equal(big[19999], '7');
    assert_string_equal(big + 20000, "|end");
    /* its own output as input */
    char *s = arena_sprintf(a, "ab");
    for (int i = 0; i < 10; i++)
        s = arena_sprintf(a, "%s%s", s, s);
    assert_int_equal(strlen(s), 2 << 10);
}

static char *vwrap(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

static void arena_vsprintf_formats(void **state)
{
    arena *a = *state;
    assert_string_equal(vwrap(a, "%s=%u", "n", 5u), "n=5");
}

static void arena_free_and_reuse(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    arena_free(&a); /* empty */
    arena_free(&a); /* twice */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++)
            arena_sprintf(&a, "round %d item %d", round, i);
        arena_alloc(&a, 1 << 20);
        arena_free(&a);
        assert_null(a.head);
    }
}

static void arena_many_arenas(void **state)
{
    (void)state;
    arena as[8];
    for (int i = 0; i < 8; i++)
        arena_init(&as[i]);
    char *s[8];
    for (int i = 0; i < 8; i++)
        s[i] = arena_sprintf(&as[i], "arena %d", i);
    arena_free(&as[3]);
    for (int i = 0; i < 8; i++)
        if (i != 3)
            assert_string_equal(s[i], arena_sprintf(&as[i], "arena %d", i));
    for (int i = 0; i < 8; i++)
        arena_free(&as[i]);
}

static void arena_grow_first_room(void **state)
{
    arena *a = *state;
    size_t cap = 0;
    int *v = arena_grow(a, NULL, 0, &cap, sizeof *v);
    assert_non_null(v);
    assert_true(cap >= 8);
    assert_int_equal((uintptr_t)v % _Alignof(max_align_t), 0);
    for (size_t i = 0; i < cap; i++)
        v[i] = (int)i; /* all of it is usable */
}

static void arena_grow_keeps_room(void **state)
{
    arena *a = *state;
    size_t cap = 0;
    int *v = arena_grow(a, NULL, 0, &cap, sizeof *v);
    size_t cap0 = cap;
    for (size_t n = 0; n < cap0; n++) {
        int *same = arena_grow(a, v, n, &cap, sizeof *v);
        assert_ptr_equal(same, v);
        assert_int_equal(cap, cap0);
        v[n] = (int)n;
    }
}

static void arena_grow_doubles_and_copies(void **state)
{
    arena *a = *state;
    size_t cap = 0, n = 0;
    long long *v = NULL;
    size_t last_cap = 0;
    for (; n < 100000; n++) {
        v = arena_grow(a, v, n, &cap, sizeof *v);
        assert_true(cap > n);
        if (cap != last_cap) {
            if (last_cap)
                assert_int_equal(cap, last_cap * 2);
            for (size_t i = 0; i < n; i++)
                if (v[i] != (long long)i * 3)
                    fail_msg("item %zu lost when growing to %zu", i, cap);
            last_cap = cap;
        }
        v[n] = (long long)n * 3;
    }
    for (size_t i = 0; i < n; i++)
        assert_true(v[i] == (long long)i * 3);
}

static void arena_grow_small_cap_reaches_eight(void **state)
{
    arena *a = *state;
    size_t cap = 2;
    char *v = arena_alloc(a, 2);
    v[0] = 'x';
    v[1] = 'y';
    char *w = arena_grow(a, v, 2, &cap, 1);
    assert_true(cap >= 8);
    assert_int_equal(w[0], 'x');
    assert_int_equal(w[1], 'y');
    memset(w + 2, 'z', cap - 2);
}

/* Runs arena_alloc(size) in a child (after a small allocation when warm)
 * and returns its wait status; the child exits 0 if arena_alloc returned. */
static int alloc_in_child(size_t size, bool warm)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        arena a;
        arena_init(&a);
        if (warm)
            arena_alloc(&a, 16);
        volatile unsigned char *p = arena_alloc(&a, size);
        (void)p;
        _exit(0); /* returned: no abort */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void arena_impossible_size_aborts(void **state)
{
    /* A size no block can hold is out of memory, which arena_alloc handles
     * by abort() (arena.c); it must never hand back a block smaller than
     * asked for. Rounding SIZE_MAX up to the alignment, or adding the block
     * header to it, wraps around to a tiny size. */
    (void)state;
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 31};
    for (size_t i = 0; i < COUNT_OF(sizes); i++) {
        for (int warm = 0; warm <= 1; warm++) {
            int st = alloc_in_child(sizes[i], warm);
            if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT))
                fail_msg("arena_alloc(SIZE_MAX - %zu)%s: child %s %d, want abort",
                         SIZE_MAX - sizes[i], warm ? " after a small allocation" : "",
                         WIFSIGNALED(st) ? "killed by signal" : "exited with",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uuid_v4_format),
        cmocka_unit_test(uuid_v4_unique_and_random),
        cmocka_unit_test(uuid_valid),
        cmocka_unit_test(uuid_invalid),
        cmocka_unit_test(uuid_embedded_nul),
        ARENA_TEST(arena_alignment),
        ARENA_TEST(arena_allocations_do_not_overlap),
        ARENA_TEST(arena_large_allocations),
        ARENA_TEST(arena_zalloc_zeroes),
        ARENA_TEST(arena_zero_size),
        ARENA_TEST(arena_strdup_copies),
        ARENA_TEST(arena_strndup_stops),
        ARENA_TEST(arena_strdup_long),
        ARENA_TEST(arena_sprintf_formats),
        ARENA_TEST(arena_vsprintf_formats),
        ARENA_TEST(arena_free_and_reuse),
        ARENA_TEST(arena_many_arenas),
        ARENA_TEST(arena_grow_first_room),
        ARENA_TEST(arena_grow_keeps_room),
        ARENA_TEST(arena_grow_doubles_and_copies),
        ARENA_TEST(arena_grow_small_cap_reaches_eight),
        cmocka_unit_test(arena_impossible_size_aborts),
    };
    return cmocka_run_group_tests(tests, sodium_group_setup, NULL);
}
