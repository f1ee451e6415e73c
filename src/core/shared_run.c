/* Shared runs (shared_run.h). */
#include "core/shared_run.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void shared_run_init(shared_run *r)
{
    atomic_init(&r->started, 0);
    atomic_init(&r->finished, 0);
    atomic_init(&r->sleepers, 0);
    atomic_init(&r->running, false);
    atomic_init(&r->result, 0);
}

/* Sleeps while *word is seen; returns at once when it is not. */
static void sleep_while(_Atomic uint32_t *word, uint32_t seen)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int64_t shared_run_call(shared_run *r, int64_t (*run)(void *ctx), void *ctx)
{
    /* A run going on now began before this call: the first that begins
     * after it is number need (runs are numbered from `started`, which
     * counts up before each run begins). */
    const uint32_t need = atomic_load(&r->started) + 1;
    for (;;) {
        uint32_t finished = atomic_load(&r->finished);
        if ((int32_t)(finished - need) >= 0)
            return atomic_load(&r->result);
        bool idle = false;
        if (atomic_compare_exchange_strong(&r->running, &idle, true)) {
            uint32_t mine = atomic_fetch_add(&r->started, 1) + 1;
            atomic_store(&r->result, run(ctx));
            atomic_store(&r->finished, mine);
            atomic_store(&r->running, false);
            /* A caller that counted itself asleep before this load either
             * sleeps on the old count and is woken here, or sees the new
             * one and does not sleep. */
            if (atomic_load(&r->sleepers))
                wake_all(&r->finished);
            continue;
        }
        atomic_fetch_add(&r->sleepers, 1);
        sleep_while(&r->finished, finished);
        atomic_fetch_sub(&r->sleepers, 1);
    }
}
