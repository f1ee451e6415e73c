/* Builds one SQL statement and its bound values in an arena. Backend-neutral:
 * "?" placeholders, one per bound value in order (a driver may renumber
 * them), and every value typed, so a backend that types its parameters
 * (PostgreSQL) knows what each one is, NULLs included. */
#ifndef LATCHKEY_SQL_BUILDER_H
#define LATCHKEY_SQL_BUILDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef enum sql_type { SQL_TEXT, SQL_INT, SQL_REAL, SQL_BOOL } sql_type;

typedef struct sql_bind {
    sql_type type;
    bool is_null;
    const char *text;
    int64_t i; /* SQL_INT, and SQL_BOOL as 0 or 1 */
    double f;
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
/* A NULL v binds a text NULL. */
void sql_builder_bind_text(sql_builder *b, const char *v);
void sql_builder_bind_int(sql_builder *b, int64_t v);
void sql_builder_bind_real(sql_builder *b, double v);
void sql_builder_bind_bool(sql_builder *b, bool v);
void sql_builder_bind_null(sql_builder *b, sql_type type);
/* Binds one value per letter of types: 's' text (NULL binds NULL), 'i'
 * int64_t, 'b' bool (passed as int). */
void sql_builder_bindf(sql_builder *b, const char *types, ...);
void sql_builder_vbindf(sql_builder *b, const char *types, va_list ap);
const char *sql_builder_text(const sql_builder *b);

#endif
