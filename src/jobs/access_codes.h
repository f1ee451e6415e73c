/* The access-code scheduler: puts codes onto their locks and takes them off
 * when they are due to change. A code with work to do has a due time in the
 * store (now, for a new or changed code; its starts_at or ends_at, for a
 * time-bound one; a retry while its lock is offline); whichever node claims
 * it first (a lease in the store) does the work in one transaction with its
 * events, so on several nodes each change happens once, and since the due
 * times live in the database a restart loses none. The action worker's
 * thread runs it (jobs/action_worker.c). */
#ifndef LATCHKEY_JOBS_ACCESS_CODES_H
#define LATCHKEY_JOBS_ACCESS_CODES_H

#include <stdint.h>

#include "store/store.h"

/* How long before a lock that could not be reached is tried again (it is
 * tried at once when it comes back online). */
enum { ACCESS_CODE_RETRY_MS = 30000 };

/* Does the work of the codes due by now; *next: when the next one is due
 * (0: none). Failures are logged and retried when the lease runs out. */
void access_codes_run(store *s, const char *owner, int64_t *next);

/* The status a code starts with, and when the scheduler first looks at it:
 * for a managed code that is to be on the lock now, "setting" at once; for
 * one that starts later, "unset" until its start. */
void access_codes_schedule(store_access_code *ac, int64_t now);

#endif
