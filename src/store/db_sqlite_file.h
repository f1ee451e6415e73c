/* What the connections of this process to one SQLite file share.
 *
 * One writer at a time: a connection about to write takes the file's writer
 * lock, so writers of this process queue on a mutex instead of polling
 * SQLite's lock with sleeps (busy_timeout), which costs milliseconds of
 * latency per collision (other processes still meet the busy timeout).
 *
 * Durable commits without an fsync each: connections commit with
 * synchronous=NORMAL (the WAL is not synced at commit) and then, before
 * anything is answered, wait for an fsync of the WAL that began after their
 * commit. Concurrent committers share one (group commit), so an answered
 * write is on disk and the disk's flush latency is paid once per group,
 * outside the writer lock, rather than once per commit inside it. */
#ifndef LATCHKEY_DB_SQLITE_FILE_H
#define LATCHKEY_DB_SQLITE_FILE_H

#include <sqlite3.h>

typedef struct sqlite_file sqlite_file;

/* The shared state of the database file at path, one per file in the
 * process (made on first use, kept until exit); NULL when out of memory. */
sqlite_file *sqlite_file_of(const char *path);

void sqlite_file_write_lock(sqlite_file *f);
void sqlite_file_write_unlock(sqlite_file *f);

/* Returns once the WAL of db (a connection to f that has just committed) is
 * on disk up to that commit; SQLite's result code. */
int sqlite_file_sync(sqlite_file *f, sqlite3 *db);

#endif
