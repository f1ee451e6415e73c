/* Builds one SQL statement and its bound values in an arena, for queries
 * whose shape depends on the filters a request gives. Backend-neutral: "?"
 * placeholders, which a backend may renumber. */
#ifndef LATCHKEY_SQL_BUILDER_H
#define LATCHKEY_SQL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef struct sql_bind {
    bool is_int;
    int64_t i;
    const char *text; /* NULL binds SQL NULL when !is_int */
} sql_bind;

typedef struct sql_builder {
    arena *a;
    char *buf;
    size_t len, cap;
    sql_bind *binds;
    size_t nbinds, bind_cap;
} sql_builder;

void sql_builder_init(sql_builder *b, arena *a);
void sql_builder_append(sql_builder *b, const char *s);
void sql_builder_appendf(sql_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sql_builder_bind_text(sql_builder *b, const char *v);
void sql_builder_bind_int(sql_builder *b, int64_t v);
const char *sql_builder_text(const sql_builder *b);

#endif
