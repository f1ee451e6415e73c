/* Completing action attempts in the background (action_worker.h). */
#include "jobs/action_worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"
#include "providers/provider.h"

enum { BATCH = 32, IDLE_LOOK_MS = 1000 };

struct action_worker {
    store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* to the worker: something is pending, or stop */
    pthread_cond_t done;  /* from the worker: some attempt finished */
    bool stopping;
    bool woken;
};

static struct timespec abs_time(int64_t ms)
{
    return (struct timespec){.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
}

typedef struct outcome {
    const char *status;     /* success, error */
    const char *error_type; /* NULL on success */
    const char *error_message;
} outcome;

/* Asks the provider to act on the device of the attempt. */
static outcome act(store *s, arena *a, const store_action_attempt *aa, bool lock)
{
    store_scope scope = {.workspace_id = aa->workspace_id};
    store_device d;
    store_connected_account ca;
    err e = ERR_NONE;
    if (!store_device_get(s, a, &scope, aa->device_id, NULL, &d, &e) ||
        !store_connected_account_get(s, a, &scope, d.connected_account_id, NULL, &ca, &e))
        return (outcome){"error", "device_not_found", "The device no longer exists."};
    if (!d.online)
        return (outcome){"error", "device_offline", "The device is offline."};
    /* Fixture accounts (--seed) have no provider login: their devices act
     * in place, as in Seam's sandbox. */
    if (!ca.provider_login)
        return (outcome){"success", NULL, NULL};
    const provider *p = provider_find(ca.provider);
    if (!p)
        return (outcome){"error", "provider_unavailable", "The device's provider is not available."};
    switch (p->set_locked(p, ca.provider_login, d.provider_device_key, lock)) {
    case PROVIDER_OK:
        return (outcome){"success", NULL, NULL};
    case PROVIDER_DEVICE_OFFLINE:
        return (outcome){"error", "device_offline", "The device is offline."};
    case PROVIDER_BAD_CREDENTIALS:
        return (outcome){"error", "account_disconnected", "The provider refused the account's login."};
    case PROVIDER_NOT_SUPPORTED:
        break;
    }
    return (outcome){"error", "action_not_supported", "The device cannot do this remotely."};
}

typedef struct completion {
    const store_action_attempt *aa;
    bool lock;
    outcome out;
} completion;

/* Device state, attempt and events, together. */
static err record(store *s, void *ctx)
{
    const completion *c = ctx;
    const store_action_attempt *aa = c->aa;
    bool ok = strcmp(c->out.status, "success") == 0;
    err e = ERR_NONE;
    if (ok)
        store_device_set_locked(s, aa->device_id, c->lock, &e);
    if (!err_failed(e))
        e = store_action_attempt_finish(s, aa->action_attempt_id, c->out.status,
                                        c->out.error_type, c->out.error_message, time_now_ms());
    store_event ev = {.workspace_id = aa->workspace_id, .device_id = aa->device_id,
                      .connected_account_id = aa->connected_account_id,
                      .action_attempt_id = aa->action_attempt_id};
    if (!err_failed(e) && ok) {
        ev.event_type = c->lock ? "lock.locked" : "lock.unlocked";
        e = store_event_record(s, ev);
    }
    if (!err_failed(e)) {
        ev.event_type = c->lock ? (ok ? "action_attempt.lock_door.succeeded"
                                      : "action_attempt.lock_door.failed")
                                : (ok ? "action_attempt.unlock_door.succeeded"
                                      : "action_attempt.unlock_door.failed");
        e = store_event_record(s, ev);
    }
    return e;
}

static void complete(action_worker *w, arena *a, const store_action_attempt *aa)
{
    err e = ERR_NONE;
    if (!store_action_attempt_claim(w->store, aa->action_attempt_id, &e))
        return; /* another worker took it */
    completion c = {.aa = aa, .lock = strcmp(aa->action_type, "LOCK_DOOR") == 0};
    c.out = act(w->store, a, aa, c.lock);
    e = store_transaction(w->store, record, &c);
    if (err_failed(e)) {
        fprintf(stderr, "latchkey: action attempt %s: %s\n", aa->action_attempt_id, e.message);
        store_action_attempt_release(w->store, aa->action_attempt_id); /* try again later */
    }
}

static void *run(void *arg)
{
    action_worker *w = arg;
    for (;;) {
        arena a;
        arena_init(&a);
        store_action_attempt *due = NULL;
        size_t n = 0;
        err e = store_action_attempt_due(w->store, &a, time_now_ms(), BATCH, &due, &n);
        for (size_t i = 0; !err_failed(e) && i < n; i++)
            complete(w, &a, &due[i]);
        int64_t next = store_action_attempt_next_due(w->store, &e);
        arena_free(&a);

        pthread_mutex_lock(&w->mu);
        if (n)
            pthread_cond_broadcast(&w->done);
        int64_t now = time_now_ms();
        int64_t until = now + IDLE_LOOK_MS;
        if (next && next < until)
            until = next;
        struct timespec ts = abs_time(until);
        while (!w->stopping && !w->woken && time_now_ms() < until)
            if (pthread_cond_timedwait(&w->wake, &w->mu, &ts) != 0)
                break;
        w->woken = false;
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            return NULL;
    }
}

action_worker *action_worker_start(store *s)
{
    action_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = s;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr); /* CLOCK_REALTIME: deadlines are wall-clock */
    pthread_cond_init(&w->wake, &attr);
    pthread_cond_init(&w->done, &attr);
    pthread_condattr_destroy(&attr);
    store_action_attempt_requeue_running(s);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void action_worker_stop(action_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void action_worker_wake(action_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->woken = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

void action_worker_wait(action_worker *w, int64_t deadline_ms)
{
    struct timespec ts = abs_time(deadline_ms);
    pthread_mutex_lock(&w->mu);
    if (!w->stopping)
        pthread_cond_timedwait(&w->done, &w->mu, &ts);
    pthread_mutex_unlock(&w->mu);
}
