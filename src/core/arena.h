/* Per-request memory: a bump allocator whose blocks are all freed at once.
 * Everything a request allocates comes from its arena; arena_free() in the
 * HTTP completion callback is the one place it is released. */
#ifndef LATCHKEY_ARENA_H
#define LATCHKEY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head;
} arena;

void arena_init(arena *a);
void arena_free(arena *a);
void *arena_alloc(arena *a, size_t size);
void *arena_zalloc(arena *a, size_t size);
/* Room for one more: returns items, or a copy twice as large (at least 8)
 * when count has reached *cap, updating *cap. */
void *arena_grow(arena *a, void *items, size_t count, size_t *cap, size_t elem);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_sprintf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(arena *a, const char *fmt, va_list ap);

#endif
