/* One run of an operation shared by the threads that need it at the same
 * time, for operations whose answer must be at least as new as the moment
 * it was asked for (a database read another node's commit must be visible
 * in, an fsync that must cover a commit just made): a caller goes on only
 * after a run that began after its call has finished, and takes the result
 * of that run or of a later one. While one run is going on, the callers
 * that arrive meanwhile wait and share the next. No lock is held at any
 * point: callers wait on the count of finished runs (a futex), and read
 * the result without waking one another. */
#ifndef LATCHKEY_SHARED_RUN_H
#define LATCHKEY_SHARED_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct shared_run {
    _Atomic uint32_t started;  /* runs begun */
    _Atomic uint32_t finished; /* the number of the last run that ended */
    _Atomic uint32_t sleepers; /* callers asleep until finished moves */
    atomic_bool running;
    _Atomic int64_t result; /* of the last run that ended */
} shared_run;

void shared_run_init(shared_run *r);

/* The result of a run of run(ctx) that began after this call; this thread
 * does the run when none is going on. */
int64_t shared_run_call(shared_run *r, int64_t (*run)(void *ctx), void *ctx);

#endif
