/* SQL text and typed bindings built piece by piece in an arena (sql_builder.h). */
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

static sql_bind *next_bind(sql_builder *b, sql_type type)
{
    b->binds = arena_grow(b->a, b->binds, b->nbinds, &b->bind_cap, sizeof *b->binds);
    sql_bind *v = &b->binds[b->nbinds++];
    *v = (sql_bind){.type = type};
    return v;
}

void sql_builder_bind_text(sql_builder *b, const char *v)
{
    sql_bind *x = next_bind(b, SQL_TEXT);
    x->text = v;
    x->is_null = !v;
}

void sql_builder_bind_int(sql_builder *b, int64_t v) { next_bind(b, SQL_INT)->i = v; }

void sql_builder_bind_real(sql_builder *b, double v) { next_bind(b, SQL_REAL)->f = v; }

void sql_builder_bind_bool(sql_builder *b, bool v) { next_bind(b, SQL_BOOL)->i = v ? 1 : 0; }

void sql_builder_bind_null(sql_builder *b, sql_type type) { next_bind(b, type)->is_null = true; }

void sql_builder_bindf(sql_builder *b, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sql_builder_vbindf(b, types, ap);
    va_end(ap);
}

void sql_builder_vbindf(sql_builder *b, const char *types, va_list ap)
{
    for (const char *t = types; *t; t++) {
        switch (*t) {
        case 's':
            sql_builder_bind_text(b, va_arg(ap, const char *));
            break;
        case 'i':
            sql_builder_bind_int(b, va_arg(ap, int64_t));
            break;
        case 'b':
            sql_builder_bind_bool(b, va_arg(ap, int) != 0);
            break;
        }
    }
}

const char *sql_builder_text(const sql_builder *b) { return b->buf; }
