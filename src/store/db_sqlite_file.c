/* The shared state of an SQLite file (db_sqlite_file.h). The fsync of group
 * commit is SQLite's own, on the write-ahead log of the connection that
 * runs it; one fsync covers every frame written to the file before it
 * began, whichever connection wrote it. */
#include "store/db_sqlite_file.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/shared_run.h"

struct sqlite_file {
    struct sqlite_file *next;
    char *path;
    pthread_mutex_t writer;
    shared_run run; /* fsyncs of the WAL: SQLite's result code */
};

/* An fsync of the WAL through db's connection. */
static int64_t sync_wal(void *db)
{
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc == SQLITE_OK && wal && wal->pMethods)
        rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    return rc;
}

int sqlite_file_sync(sqlite_file *f, sqlite3 *db)
{
    return (int)shared_run_call(&f->run, sync_wal, db);
}

void sqlite_file_write_lock(sqlite_file *f) { pthread_mutex_lock(&f->writer); }

void sqlite_file_write_unlock(sqlite_file *f) { pthread_mutex_unlock(&f->writer); }

static sqlite_file *group_new(const char *path)
{
    sqlite_file *g = calloc(1, sizeof *g);
    if (g && !(g->path = strdup(path))) {
        free(g);
        return NULL;
    }
    if (g) {
        pthread_mutex_init(&g->writer, NULL);
        shared_run_init(&g->run);
    }
    return g;
}

sqlite_file *sqlite_file_of(const char *path)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static sqlite_file *groups;
    pthread_mutex_lock(&lock);
    sqlite_file *g = groups;
    while (g && strcmp(g->path, path) != 0)
        g = g->next;
    if (!g && (g = group_new(path))) {
        g->next = groups;
        groups = g;
    }
    pthread_mutex_unlock(&lock);
    return g;
}
