/* The few fragments SQLite and PostgreSQL spell differently, in one place:
 * JSON key matches, case-insensitive search, and row locks. Everything else
 * the resources write is SQL both accept. */
#include <string.h>

#include "store/resource.h"

void dialect_metadata(sql_builder *b, const db *d, const char *column, const metadata_filter *m)
{
    const bool pg = db_backend_of(d) == DB_POSTGRES;
    for (size_t i = 0; m && i < m->count; i++) {
        const metadata_match *x = &m->items[i];
        const char *value = x->is_bool ? (x->bool_value ? "true" : "false") : x->str_value;
        if (pg) {
            /* text ->> gives booleans as 'true' / 'false' */
            sql_builder_appendf(b, " AND jsonb_typeof(%s::jsonb -> ?) = ? AND (%s::jsonb ->> ?) = ?",
                                column, column);
            sql_builder_bindf(b, "ssss", x->key, x->is_bool ? "boolean" : "string", x->key, value);
        } else {
            const char *path = arena_sprintf(b->a, "$.\"%s\"", x->key);
            if (x->is_bool) {
                sql_builder_appendf(b, " AND json_type(%s, ?) = ?", column);
                sql_builder_bindf(b, "ss", path, value);
            } else {
                sql_builder_appendf(b, " AND json_type(%s, ?) = 'text' AND json_extract(%s, ?) = ?",
                                    column, column);
                sql_builder_bindf(b, "sss", path, path, value);
            }
        }
    }
}

/* A LIKE pattern (with ESCAPE '\') matching text that contains s literally. */
static const char *like_contains(arena *a, const char *s)
{
    char *out = arena_alloc(a, 2 * strlen(s) + 3), *o = out;
    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

void dialect_search(sql_builder *b, const db *d, const char *const *columns, size_t ncolumns,
                    const char *exact_column, const char *needle)
{
    /* SQLite's LIKE ignores ASCII case already; PostgreSQL's does not. */
    const char *like = db_backend_of(d) == DB_POSTGRES ? "ILIKE" : "LIKE";
    const char *pattern = like_contains(b->a, needle);
    sql_builder_append(b, " AND (");
    for (size_t i = 0; i < ncolumns; i++) {
        sql_builder_appendf(b, "%s%s %s ? ESCAPE '\\'", i ? " OR " : "", columns[i], like);
        sql_builder_bind_text(b, pattern);
    }
    if (exact_column) {
        sql_builder_appendf(b, " OR %s = ?", exact_column);
        sql_builder_bind_text(b, needle);
    }
    sql_builder_append(b, ")");
}

const char *dialect_lock_rows(const db *d)
{
    return db_backend_of(d) == DB_POSTGRES ? " FOR UPDATE" : "";
}

const char *dialect_claim_rows(const db *d)
{
    return db_backend_of(d) == DB_POSTGRES ? " FOR UPDATE SKIP LOCKED" : "";
}

void dialect_next_seq(sql_builder *b, const db *d, const char *table)
{
    if (db_backend_of(d) == DB_POSTGRES)
        sql_builder_append(b, "DEFAULT");
    else
        sql_builder_appendf(b, "(SELECT COALESCE(MAX(seq), 0) + 1 FROM %s)", table);
}
