/* One run of an operation shared by the threads that need it at the same
 * time, for operations whose answer must be at least as new as the moment
 * it was asked for (a database read another node's commit must be visible
 * in, an fsync that must cover a commit just made): a caller goes on only
 * after a run that began after its call has finished. While one run is
 * going on, the callers that arrive meanwhile wait and share the next. */
#ifndef LATCHKEY_SHARED_RUN_H
#define LATCHKEY_SHARED_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct shared_run {
    pthread_mutex_t lock;
    pthread_cond_t done;
    uint64_t started, finished; /* runs so far */
    bool running;
    int waiting; /* callers inside shared_run_wait */
} shared_run;

void shared_run_init(shared_run *r);
void shared_run_destroy(shared_run *r);

/* Called with r->lock held; returns with it held once a run that started
 * after this call began has finished. When no run is going on, this thread
 * does one: run(ctx) without the lock, then publish(ctx) with it, where the
 * run's result is kept for the callers that share it. */
void shared_run_wait(shared_run *r, void (*run)(void *ctx), void (*publish)(void *ctx),
                     void *ctx);

#endif
