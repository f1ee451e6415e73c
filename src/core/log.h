/* Lines to standard error in batches: the request log. A line goes into a
 * buffer that is written out once it holds LOG_BATCH_BYTES, or LOG_DELAY_MS
 * after the first line that waits, and at log_stop and exit. Lines are
 * written whole (a write of whole lines, of at most PIPE_BUF bytes unless a
 * line is longer, so another writer of standard error cannot cut one) and
 * in order; none is dropped: when standard error does not keep up, the
 * writers wait, as they would for an unbuffered write. Only a crash or
 * SIGKILL loses the lines of the last LOG_DELAY_MS. */
#ifndef LATCHKEY_LOG_H
#define LATCHKEY_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum {
    LOG_BATCH_BYTES = 4096,
    LOG_DELAY_MS = 50,
};

/* Starts batching (a thread that writes out what waits); counted, so each
 * log_start has its log_stop. False when the thread cannot start: lines
 * are then written at once. */
bool log_start(void);
/* One line of len bytes, ending in '\n'. Thread-safe. */
void log_line(const char *line, size_t len);
/* Writes out every line given so far. */
void log_flush(void);
/* The last log_stop writes out what waits and stops the thread. */
void log_stop(void);

#endif
