/* Shared runs (shared_run.h). */
#include "core/shared_run.h"

void shared_run_init(shared_run *r)
{
    *r = (shared_run){.started = 0};
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->done, NULL);
}

void shared_run_destroy(shared_run *r)
{
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->done);
}

void shared_run_wait(shared_run *r, void (*run)(void *ctx), void (*publish)(void *ctx), void *ctx)
{
    /* The run in progress, if any, is number `started`: it began before
     * this call; number need is the first that begins after. */
    const uint64_t need = r->started + 1;
    r->waiting++;
    while (r->finished < need) {
        if (r->running) {
            pthread_cond_wait(&r->done, &r->lock);
            continue;
        }
        r->running = true;
        const uint64_t mine = ++r->started;
        pthread_mutex_unlock(&r->lock);
        run(ctx);
        pthread_mutex_lock(&r->lock);
        r->running = false;
        r->finished = mine;
        publish(ctx);
        pthread_cond_broadcast(&r->done);
    }
    r->waiting--;
}
