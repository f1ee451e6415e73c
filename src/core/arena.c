/* Bump allocator for per-request memory (see arena.h). Blocks grow
 * geometrically; large requests get a block of their own. */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t cap;
    size_t used;
    _Alignas(max_align_t) unsigned char data[];
};

enum { ARENA_FIRST_BLOCK = 4096 };

void arena_init(arena *a) { a->head = NULL; }

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *arena_alloc(arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    if (size > SIZE_MAX / 4) { /* no request needs this; rounding or doubling would overflow */
        fprintf(stderr, "latchkey: impossible allocation of %zu bytes\n", size);
        abort();
    }
    size = (size + align - 1) & ~(align - 1);
    arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = b ? b->cap * 2 : ARENA_FIRST_BLOCK;
        if (cap < size)
            cap = size;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) { /* out of memory: nothing sensible is left to do */
            fprintf(stderr, "latchkey: out of memory\n");
            abort();
        }
        nb->cap = cap;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *arena_zalloc(arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

void *arena_grow(arena *a, void *items, size_t count, size_t *cap, size_t elem)
{
    if (items && count < *cap)
        return items;
    size_t ncap = *cap >= 8 ? *cap * 2 : 8;
    void *bigger = arena_alloc(a, ncap * elem);
    if (count)
        memcpy(bigger, items, count * elem);
    *cap = ncap;
    return bigger;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vsprintf(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *d = arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *arena_sprintf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return d;
}
