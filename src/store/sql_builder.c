/* SQL text and bindings built piece by piece in an arena (sql_builder.h). */
#include "store/sql_builder.h"

#include <stdarg.h>
#include <string.h>

void sql_builder_init(sql_builder *b, arena *a)
{
    memset(b, 0, sizeof *b);
    b->a = a;
    b->cap = 512;
    b->buf = arena_alloc(a, b->cap);
    b->buf[0] = '\0';
}

static void reserve(sql_builder *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap * 2;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *nb = arena_alloc(b->a, cap);
    memcpy(nb, b->buf, b->len + 1);
    b->buf = nb;
    b->cap = cap;
}

void sql_builder_append(sql_builder *b, const char *s)
{
    size_t n = strlen(s);
    reserve(b, n);
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

void sql_builder_appendf(sql_builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vsprintf(b->a, fmt, ap);
    va_end(ap);
    sql_builder_append(b, s);
}

static sql_bind *next_bind(sql_builder *b)
{
    b->binds = arena_grow(b->a, b->binds, b->nbinds, &b->bind_cap, sizeof *b->binds);
    return &b->binds[b->nbinds++];
}

void sql_builder_bind_text(sql_builder *b, const char *v)
{
    *next_bind(b) = (sql_bind){.is_int = false, .text = v};
}

void sql_builder_bind_int(sql_builder *b, int64_t v)
{
    *next_bind(b) = (sql_bind){.is_int = true, .i = v};
}

const char *sql_builder_text(const sql_builder *b) { return b->buf; }
