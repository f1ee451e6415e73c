/* Unit tests for core/shared_run: every caller takes the result of a run
 * that began after its call, concurrent callers share runs, and a caller
 * alone runs itself. */
#include <pthread.h>
#include <time.h>

#include "unit_fixtures.h"

#include "core/shared_run.h"

enum { THREADS = 8, CALLS = 2000 };

typedef struct counted {
    shared_run run;
    _Atomic int64_t begun; /* runs begun: each run returns its number */
    _Atomic int64_t late;  /* callers given a run that began before they called */
    _Atomic int64_t calls;
} counted;

static int64_t numbered_run(void *p)
{
    counted *c = p;
    int64_t n = atomic_fetch_add(&c->begun, 1) + 1;
    struct timespec pause = {0, 20000}; /* a round trip's worth, roughly */
    nanosleep(&pause, NULL);
    return n;
}

static void *caller(void *p)
{
    counted *c = p;
    for (int i = 0; i < CALLS; i++) {
        int64_t before = atomic_load(&c->begun);
        int64_t got = shared_run_call(&c->run, numbered_run, c);
        if (got <= before)
            atomic_fetch_add(&c->late, 1);
        atomic_fetch_add(&c->calls, 1);
    }
    return NULL;
}

static void alone_runs_each_time(void **state)
{
    (void)state;
    counted c = {0};
    shared_run_init(&c.run);
    for (int64_t i = 1; i <= 5; i++)
        assert_int_equal(shared_run_call(&c.run, numbered_run, &c), i);
}

static void results_are_never_older_than_the_call(void **state)
{
    (void)state;
    counted c = {0};
    shared_run_init(&c.run);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, caller, &c), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&c.calls), THREADS * CALLS);
    assert_int_equal(atomic_load(&c.late), 0);
    /* They shared: fewer runs than calls (each run lasts 20 µs, and eight
     * threads call back to back). */
    assert_true(atomic_load(&c.begun) < THREADS * CALLS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alone_runs_each_time),
        cmocka_unit_test(results_are_never_older_than_the_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
