/* Completing action attempts in the background (action_worker.h). */
#include "jobs/action_worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "jobs/access_codes.h"
#include "jobs/climate.h"
#include "core/timeutil.h"
#include "providers/provider.h"

enum { BATCH = 32, IDLE_LOOK_MS = 1000 };
/* How long a claimed attempt stays this worker's: another node takes it
 * over only once the lease has run out. It must be longer than any provider
 * action takes (the sandbox providers act in milliseconds), and the attempts
 * of one claim are done one after another. It is also how long the
 * attempts of a node that died wait. */
enum { LEASE_MS = 10000 };

struct action_worker {
    store *store;
    links *links;             /* live providers' devices */
    char owner[UUID_STR_LEN]; /* this worker's leases: the node's, fresh at each start */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* to the worker: something is pending, or stop */
    pthread_cond_t done;  /* from the worker: some attempt finished */
    uint64_t finished;    /* claims that finished attempts, counted */
    int64_t climate_tenth_ms; /* sandbox thermostats' pace (climate_step) */
    bool stopping;
    bool woken;
};

static struct timespec abs_time(int64_t ms)
{
    return (struct timespec){.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
}

typedef links_outcome outcome;

/* A noise threshold's change: written when asked (api/noise_thresholds.c);
 * its attempt says whether the sensor took it, and changes nothing more. */
static bool noise_action(const char *action_type)
{
    return strstr(action_type, "_NOISE_THRESHOLD") != NULL;
}

/* Asks the provider to act on the device. */
static outcome ask_provider(const store_device *d, const store_connected_account *ca, bool lock)
{
    if (!d->online)
        return (outcome){"error", "device_offline", "The device is offline."};
    /* Fixture accounts (--seed) have no provider login: their devices act
     * in place, as in Seam's sandbox. */
    if (!ca->provider_login)
        return (outcome){"success", NULL, NULL};
    const provider *p = provider_find(ca->provider);
    if (!p)
        return (outcome){"error", "provider_unavailable", "The device's provider is not available."};
    switch (p->set_locked(p, ca->provider_login, d->provider_device_key, lock)) {
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

/* Hands the attempt to the links job, which finishes it when the device
 * answers; the attempt stays this worker's until then. */
static bool hand_over(action_worker *w, const store_action_attempt *aa, const store_device *d,
                      bool lock)
{
    int64_t deadline = 0;
    if (!links_command(w->links, aa, d->provider_device_key, lock, &deadline))
        return false;
    err e = store_action_attempt_extend(w->store, aa->action_attempt_id, w->owner,
                                        deadline + LEASE_MS);
    if (err_failed(e))
        fprintf(stderr, "latchkey: action attempt %s: %s\n", aa->action_attempt_id, e.message);
    return true;
}

/* The outcome of the attempt, or *handed when a live provider's device is
 * to answer; fails only when the store cannot be read, so that a passing
 * failure is not recorded as the attempt's outcome. */
static err act(action_worker *w, arena *a, const store_action_attempt *aa, bool lock,
               outcome *out, bool *handed)
{
    store *s = w->store;
    store_scope scope = {.workspace_id = aa->workspace_id};
    store_device d;
    store_connected_account ca;
    err e = store_device_get(s, a, &scope, aa->device_id, NULL, false, &d);
    if (!err_failed(e))
        e = store_connected_account_get(s, a, &scope, d.connected_account_id, NULL, false, &ca);
    if (store_not_found(e)) {
        *out = (outcome){"error", "device_not_found", "The device no longer exists."};
        return ERR_NONE;
    }
    if (err_failed(e))
        return e;
    if (climate_action(aa->action_type) || noise_action(aa->action_type)) {
        /* Sandbox thermostats and noise sensors take any setting while
         * online. */
        *out = !d.online           ? (outcome){"error", "device_offline", "The device is offline."}
               : ca.settings_sealed ? (outcome){"error", "action_not_supported",
                                               "The device cannot do this remotely."}
                                    : (outcome){"success", NULL, NULL};
    } else if (!ca.settings_sealed) {
        *out = ask_provider(&d, &ca, lock);
    } else if (!d.online) {
        *out = (outcome){"error", "device_offline", "The device is offline."};
    } else if (!(*handed = hand_over(w, aa, &d, lock))) {
        /* This node no longer holds the account: whoever does takes it. */
        *out = (outcome){NULL, NULL, NULL};
    }
    return ERR_NONE;
}

typedef struct completion {
    arena *a;
    const store_action_attempt *aa;
    const char *owner;
    bool lock;
    outcome out;
} completion;

/* Device state, attempt and events, together; not found, with nothing
 * written, when the lease ran out and another node took the attempt over. */
static err record(store *s, void *ctx)
{
    const completion *c = ctx;
    const store_action_attempt *aa = c->aa;
    outcome out = c->out;
    bool ok = strcmp(out.status, "success") == 0;
    bool climate = climate_action(aa->action_type);
    store_scope scope = {.workspace_id = aa->workspace_id};
    err e = ERR_NONE;
    if (ok && climate) {
        e = climate_write(s, c->a, &scope, aa->device_id, aa->action_type, aa->params,
                          time_now_ms(), NULL);
        bool refused = e.kind == ERR_BAD_REQUEST ||
                       (store_not_found(e) && strcmp(e.type, "device_not_found") != 0);
        if (refused) { /* by the thermostat: a preset deleted since it was asked for */
            out = (outcome){"error", e.type, e.message};
            ok = false;
            e = ERR_NONE;
        }
    } else if (ok && !noise_action(aa->action_type)) {
        e = store_device_set_locked(s, &scope, aa->device_id, c->lock);
    }
    if (store_not_found(e))
        e = ERR_NONE; /* deleted since: the provider did act all the same */
    if (!err_failed(e))
        e = store_action_attempt_finish(s, aa->action_attempt_id, c->owner, out.status,
                                        out.error_type, out.error_message, time_now_ms());
    if (climate && ok && !err_failed(e)) { /* the thermostat's event, no attempt's */
        const char *payload = NULL;
        const char *type = climate_event(c->a, aa->action_type, aa->params, &payload);
        if (type)
            e = store_event_record(s, (store_event){.workspace_id = aa->workspace_id,
                                                    .event_type = type,
                                                    .device_id = aa->device_id,
                                                    .connected_account_id =
                                                        aa->connected_account_id,
                                                    .payload = payload});
    }
    if (climate || noise_action(aa->action_type)) /* no attempt events of these */
        return e;
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

/* Completes an attempt this worker holds. */
static void complete(action_worker *w, arena *a, const store_action_attempt *aa)
{
    completion c = {.a = a, .aa = aa, .owner = w->owner,
                    .lock = strcmp(aa->action_type, "LOCK_DOOR") == 0};
    bool handed = false;
    err e = act(w, a, aa, c.lock, &c.out, &handed);
    if (!err_failed(e) && handed)
        return;
    if (!err_failed(e) && !c.out.status) {
        store_action_attempt_release(w->store, aa->action_attempt_id, w->owner);
        return;
    }
    if (!err_failed(e))
        e = store_transaction(w->store, record, &c);
    if (store_not_found(e)) {
        fprintf(stderr, "latchkey: action attempt %s: its lease ran out; another node took it\n",
                aa->action_attempt_id);
    } else if (err_failed(e)) {
        fprintf(stderr, "latchkey: action attempt %s: %s\n", aa->action_attempt_id, e.message);
        /* Try again soon (failing that, when the lease runs out). */
        store_action_attempt_release(w->store, aa->action_attempt_id, w->owner);
    }
}

/* The links job's hook: a live provider's device answered (or did not). */
static void finish_handed(void *ctx, const store_action_attempt *aa, bool lock, links_outcome out)
{
    action_worker *w = ctx;
    arena a;
    arena_init(&a);
    completion c = {.a = &a, .aa = aa, .owner = w->owner, .lock = lock, .out = out};
    err e = store_transaction(w->store, record, &c);
    arena_free(&a);
    if (err_failed(e) && !store_not_found(e))
        fprintf(stderr, "latchkey: action attempt %s: %s\n", aa->action_attempt_id, e.message);
    pthread_mutex_lock(&w->mu);
    w->finished++;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);
}

static void wake_hook(void *ctx) { action_worker_wake(ctx); }

static void *run(void *arg)
{
    action_worker *w = arg;
    /* A completion lost in a crash is done again: its attempt is still
     * pending under a lease that runs out. Waiting for each on disk would
     * make the one worker do one attempt per disk flush. */
    store_relax_durability(w->store);
    for (;;) {
        arena a;
        arena_init(&a);
        store_action_attempt *held = NULL;
        size_t n = 0;
        err e = store_action_attempt_claim(w->store, &a, w->owner, time_now_ms(), LEASE_MS, BATCH,
                                           &held, &n);
        for (size_t i = 0; !err_failed(e) && i < n; i++)
            complete(w, &a, &held[i]);
        int64_t next = 0, codes_next = 0;
        if (err_failed(store_action_attempt_next_due(w->store, w->owner, &next)))
            next = 0; /* look again after IDLE_LOOK_MS */
        arena_free(&a);
        access_codes_run(w->store, w->owner, &codes_next);
        if (codes_next && (!next || codes_next < next))
            next = codes_next;
        /* Thermostats' temperatures move here too; a step that fails is
         * taken again at the next look. */
        int64_t moves = 0;
        if (!err_failed(climate_step(w->store, time_now_ms(), w->climate_tenth_ms, &moves)) &&
            moves && (!next || moves < next))
            next = moves;

        pthread_mutex_lock(&w->mu);
        if (n) {
            w->finished++;
            pthread_cond_broadcast(&w->done);
        }
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

action_worker *action_worker_start(store *s, links *l, unsigned climate_degrees_per_hour)
{
    action_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = s;
    w->links = l;
    w->climate_tenth_ms = climate_tenth_ms(climate_degrees_per_hour);
    strcpy(w->owner, links_owner(l));
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr); /* CLOCK_REALTIME: deadlines are wall-clock */
    pthread_cond_init(&w->wake, &attr);
    pthread_cond_init(&w->done, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        free(w);
        return NULL;
    }
    links_hooks hooks = {w, finish_handed, wake_hook};
    links_set_hooks(l, &hooks);
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

void action_worker_wait(action_worker *w, int64_t deadline_ms, uint64_t *seen)
{
    struct timespec ts = abs_time(deadline_ms);
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && w->finished == *seen)
        if (pthread_cond_timedwait(&w->done, &w->mu, &ts) != 0)
            break;
    *seen = w->finished;
    pthread_mutex_unlock(&w->mu);
}
