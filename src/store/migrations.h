/* Numbered schema migrations, compiled in from src/store/migrations/<backend>/
 * NNNN_name.sql by the build (cmake/embed_migrations.cmake). */
#ifndef LATCHKEY_MIGRATIONS_H
#define LATCHKEY_MIGRATIONS_H

#include <stddef.h>

typedef struct migration {
    int version;
    const char *sql;
} migration;

extern const migration sqlite_migrations[];
extern const size_t sqlite_migrations_count;
extern const migration postgres_migrations[];
extern const size_t postgres_migrations_count;

#endif
