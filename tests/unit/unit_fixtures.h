/* What the cmocka unit tests share. CMake builds each tests/unit/test_*.c as
 * a program of its own, so the shared fixtures and helpers live here as
 * static inline functions: the headers cmocka needs, libsodium's group
 * setup, a fresh arena per test, and base64url text. */
#ifndef LATCHKEY_TESTS_UNIT_FIXTURES_H
#define LATCHKEY_TESTS_UNIT_FIXTURES_H

/* cmocka.h expects these before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/arena.h"

/* The number of items of an array (not of a pointer). */
#define COUNT_OF(array) (sizeof(array) / sizeof *(array))

/* Group setup of a suite whose code draws random bytes or hashes. */
static inline int sodium_group_setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* Per-test setup and teardown: *state is an empty arena of the test's own. */
static inline int arena_setup(void **state)
{
    arena *a = malloc(sizeof *a);
    if (!a)
        return -1;
    arena_init(a);
    *state = a;
    return 0;
}

static inline int arena_teardown(void **state)
{
    arena_free(*state);
    free(*state);
    return 0;
}

/* A test that gets its own arena as *state. */
#define ARENA_TEST(fn) cmocka_unit_test_setup_teardown(fn, arena_setup, arena_teardown)

/* Whether c is one of 0-9a-f. */
static inline bool is_lower_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The unpadded base64url text of len bytes (as cursors and sealed tokens
 * are written), in the arena. */
static inline char *b64url_encode(arena *a, const void *data, size_t len)
{
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    size_t olen = sodium_base64_ENCODED_LEN(len, variant);
    return sodium_bin2base64(arena_alloc(a, olen), olen, data, len, variant);
}

#endif
