/* Live providers' connections (links.h). */
#include "jobs/links.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/timeutil.h"
#include "jobs/accounts.h"
#include "providers/live.h"

/* CONNECTS_AT_ONCE: connect tries (a thread each, up to PROBE_MS) running
 * at most on this node; more wait in the store for a free place. */
enum { LOOK_MS = 1000, PROBE_MS = 10000, CONNECTS_AT_ONCE = 8 };
/* How long shutdown waits for the closed sessions' threads to end. */
enum { LINKS_END_MS = 10000 };

/* A session this node holds for a live account. */
typedef struct held {
    links *l;
    char *account_id, *workspace_id, *settings_sealed;
    const provider *p;
    live_session *session;
    struct held *next;
} held;

/* A command sent (or to send) to a device, until it answers. */
typedef struct command {
    store_action_attempt aa; /* its strings are the command's own copies */
    char *device_key;
    bool lock;
    bool sent;
    int64_t deadline;
    struct command *next;
} command;

struct links {
    store *store;
    token_keys keys;
    links_config cfg;
    char owner[UUID_STR_LEN];
    pthread_t thread;
    pthread_mutex_t mu; /* everything below */
    pthread_cond_t wake;
    pthread_cond_t probes_done;
    links_hooks hooks;
    bool stopping, woken;
    int probes; /* connect tries running */
    held *sessions;
    command *commands;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static struct timespec abs_after(int64_t ms)
{
    int64_t at = time_now_ms() + ms;
    return (struct timespec){.tv_sec = (time_t)(at / 1000), .tv_nsec = (long)(at % 1000) * 1000000};
}

static void log_failure(const char *what, const char *id, err e)
{
    if (err_failed(e))
        fprintf(stderr, "latchkey: %s %s: %s\n", what, id, e.message);
}

/* ---- commands ---- */

static void command_free(command *c)
{
    free((char *)c->aa.action_attempt_id);
    free((char *)c->aa.workspace_id);
    free((char *)c->aa.device_id);
    free((char *)c->aa.connected_account_id);
    free((char *)c->aa.action_type);
    free(c->device_key);
    free(c);
}

/* Takes the commands that the report ends out of the list (under mu). */
static command *take_answered(links *l, const char *account_id, const live_state *st)
{
    command *answered = NULL, **p = &l->commands;
    while (*p) {
        command *c = *p;
        bool ends = strcmp(c->aa.connected_account_id, account_id) == 0 &&
                    strcmp(c->device_key, st->key) == 0 &&
                    (st->jammed || st->locked == (int)c->lock || st->online == 0 ||
                     (st->refused && st->refused_lock == c->lock));
        if (ends) {
            *p = c->next;
            c->next = answered;
            answered = c;
        } else {
            p = &c->next;
        }
    }
    return answered;
}

static void finish_all(links *l, command *list, links_outcome ok, const live_state *st)
{
    while (list) {
        command *c = list;
        list = c->next;
        links_outcome out = ok;
        if (st && st->refused)
            out = (links_outcome){"error", "device_command_refused", st->refused};
        else if (st && st->jammed)
            out = (links_outcome){"error", "device_jammed",
                                  "The lock reported that it could not finish moving (jammed)."};
        else if (st && st->online == 0)
            out = (links_outcome){"error", "device_offline", "The device went offline."};
        if (l->hooks.finish)
            l->hooks.finish(l->hooks.ctx, &c->aa, c->lock, out);
        command_free(c);
    }
}

/* ---- what sessions report ---- */

typedef struct device_list {
    held *h;
    const provider_device *devices;
    size_t count;
    arena *a;
} device_list;

static err write_devices(store *s, void *ctx)
{
    device_list *x = ctx;
    held *h = x->h;
    int64_t now = time_now_ms();
    store_event ev = {.workspace_id = h->workspace_id, .connected_account_id = h->account_id};
    err e = ERR_NONE;
    for (size_t i = 0; i < x->count && !err_failed(e); i++)
        e = accounts_device(s, x->a, h->p, &ev, &x->devices[i], true, now);
    store_device *have = NULL;
    size_t n = 0;
    if (!err_failed(e))
        e = store_devices_of_account(s, x->a, h->account_id, &have, &n);
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        bool listed = false;
        for (size_t j = 0; j < x->count && !listed; j++)
            listed = have[i].provider_device_key &&
                     strcmp(have[i].provider_device_key, x->devices[j].key) == 0;
        if (listed)
            continue;
        e = store_device_remove(s, have[i].device_id);
        store_event gone = ev;
        gone.event_type = "device.removed";
        gone.device_id = have[i].device_id;
        if (!err_failed(e))
            e = store_event_record(s, gone);
    }
    return e;
}

static void on_devices(void *ctx, const provider_device *devices, size_t count)
{
    held *h = ctx;
    arena a;
    arena_init(&a);
    device_list x = {h, devices, count, &a};
    log_failure("device list of account", h->account_id,
                store_transaction(h->l->store, write_devices, &x));
    arena_free(&a);
}

typedef struct report {
    held *h;
    const live_state *st;
    bool answers; /* a command asked for this: its attempt records the lock event */
} report;

static err write_state(store *s, void *ctx)
{
    report *r = ctx;
    arena a;
    arena_init(&a);
    store_device d;
    err e = store_device_of_account(s, &a, r->h->account_id, r->st->key, &d);
    if (store_not_found(e)) { /* not listed (yet) */
        arena_free(&a);
        return ERR_NONE;
    }
    store_device was = d;
    int64_t now = time_now_ms();
    if (r->st->online >= 0 && (bool)r->st->online != d.online) {
        d.online = r->st->online;
        d.offline_at = d.online ? 0 : now;
    }
    if (r->st->locked >= 0)
        d.locked = r->st->locked;
    if (r->st->battery_level >= 0)
        d.battery_level = r->st->battery_level;
    store_event ev = {.workspace_id = d.workspace_id, .device_id = d.device_id,
                      .connected_account_id = d.connected_account_id};
    bool changed = d.online != was.online || d.locked != was.locked ||
                   d.battery_level != was.battery_level;
    if (!err_failed(e) && changed)
        e = store_device_set_state(s, &d);
    /* An unmanaged device has its own connection events, and no lock
     * events: latchkey does not manage its lock. */
    if (!err_failed(e) && d.online != was.online) {
        ev.event_type = d.is_managed ? (d.online ? "device.connected" : "device.disconnected")
                                     : (d.online ? "device.unmanaged.connected"
                                                 : "device.unmanaged.disconnected");
        e = store_event_record(s, ev);
    }
    /* Operated at the door (or a change latchkey did not ask for); the
     * first report of a new device is not a change. */
    if (!err_failed(e) && d.is_managed && d.locked != was.locked && was.locked >= 0 &&
        !r->answers) {
        ev.event_type = d.locked ? "lock.locked" : "lock.unlocked";
        ev.method = r->st->method ? r->st->method : "unknown";
        e = store_event_record(s, ev);
    }
    arena_free(&a);
    return e;
}

static void on_state(void *ctx, const live_state *st)
{
    held *h = ctx;
    links *l = h->l;
    pthread_mutex_lock(&l->mu);
    command *answered = take_answered(l, h->account_id, st);
    pthread_mutex_unlock(&l->mu);
    bool success = answered && !st->jammed && st->online != 0 && !st->refused;
    report r = {h, st, success};
    log_failure("state report of account", h->account_id,
                store_transaction(l->store, write_state, &r));
    finish_all(l, answered, (links_outcome){"success", NULL, NULL}, st);
}

typedef struct account_error {
    held *h;
    const char *code, *message;
} account_error;

static err write_error(store *s, void *ctx)
{
    account_error *x = ctx;
    bool changed = false;
    err e = store_connected_account_set_error(s, x->h->account_id, x->code, x->message,
                                              time_now_ms(), &changed);
    if (err_failed(e) || !changed)
        return e;
    store_event ev = {.workspace_id = x->h->workspace_id,
                      .connected_account_id = x->h->account_id,
                      .event_type = x->code ? "connected_account.disconnected"
                                            : "connected_account.connected"};
    return store_event_record(s, ev);
}

static void set_error(held *h, const char *code, const char *message)
{
    account_error x = {h, code, message};
    log_failure("error of account", h->account_id, store_transaction(h->l->store, write_error, &x));
}

/* The session is up: commands that waited for it go now. */
static void on_up(void *ctx)
{
    held *h = ctx;
    links *l = h->l;
    set_error(h, NULL, NULL);
    pthread_mutex_lock(&l->mu);
    /* Commands wait only for sessions in the list, which have their
     * session set before they are put there. */
    bool listed = false;
    for (held *x = l->sessions; x && !listed; x = x->next)
        listed = x == h;
    for (command *c = l->commands; listed && c; c = c->next)
        if (!c->sent && strcmp(c->aa.connected_account_id, h->account_id) == 0)
            c->sent = h->p->live->send(h->session, c->device_key, c->lock);
    pthread_mutex_unlock(&l->mu);
}

static void on_down(void *ctx, live_down why, const char *message)
{
    held *h = ctx;
    (void)why;
    set_error(h, "account_disconnected", message);
    /* What was sent may be lost with the connection: send again when it is
     * back (lock and unlock ask for a state, so twice is the same). */
    pthread_mutex_lock(&h->l->mu);
    for (command *c = h->l->commands; c; c = c->next)
        if (strcmp(c->aa.connected_account_id, h->account_id) == 0)
            c->sent = false;
    pthread_mutex_unlock(&h->l->mu);
}

/* ---- sessions this node holds ---- */

static void held_free(held *h)
{
    free(h->account_id);
    free(h->workspace_id);
    free(h->settings_sealed);
    free(h);
}

static void close_session(held *h)
{
    if (h->session)
        h->p->live->close(h->session);
    held_free(h);
}

static held *open_session(links *l, const store_connected_account *ca)
{
    const provider *p = provider_find(ca->provider);
    if (!p || !p->live)
        return NULL;
    held *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->l = l;
    h->p = p;
    h->account_id = strdup(ca->connected_account_id);
    h->workspace_id = strdup(ca->workspace_id);
    h->settings_sealed = strdup(ca->settings_sealed);
    arena a;
    arena_init(&a);
    const char *settings = token_unseal(&a, &l->keys, ca->settings_sealed);
    live_sink sink = {h, on_devices, on_state, on_up, on_down};
    h->session = settings ? p->live->open(settings, &sink) : NULL;
    arena_free(&a);
    if (!h->session)
        fprintf(stderr, "latchkey: account %s: its %s session cannot start%s\n",
                ca->connected_account_id, p->name,
                settings ? "" : " (its settings were sealed with another server secret)");
    return h;
}

static bool holds(const store_connected_account *list, size_t n, const held *h)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].connected_account_id, h->account_id) == 0 &&
            strcmp(list[i].settings_sealed ? list[i].settings_sealed : "", h->settings_sealed) == 0)
            return true;
    return false;
}

/* Opens the sessions of accounts this node now holds, closes those it no
 * longer does (or whose settings changed). */
static void hold_accounts(links *l)
{
    arena a;
    arena_init(&a);
    store_connected_account *list = NULL;
    size_t n = 0;
    err e = store_provider_links_claim(l->store, &a, l->owner, time_now_ms(), l->cfg.lease_ms,
                                       &list, &n);
    if (err_failed(e)) {
        fprintf(stderr, "latchkey: provider links: %s\n", e.message);
        arena_free(&a);
        return;
    }
    held *closing = NULL;
    pthread_mutex_lock(&l->mu);
    for (held **p = &l->sessions; *p;) {
        held *h = *p;
        if (holds(list, n, h)) {
            p = &h->next;
            continue;
        }
        *p = h->next;
        h->next = closing;
        closing = h;
    }
    pthread_mutex_unlock(&l->mu);
    while (closing) {
        held *h = closing;
        closing = h->next;
        close_session(h);
    }
    bool took = false;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&l->mu);
        bool have = false;
        for (held *h = l->sessions; h && !have; h = h->next)
            have = strcmp(h->account_id, list[i].connected_account_id) == 0;
        pthread_mutex_unlock(&l->mu);
        if (have || !list[i].settings_sealed)
            continue;
        held *h = open_session(l, &list[i]);
        if (!h)
            continue;
        pthread_mutex_lock(&l->mu);
        h->next = l->sessions;
        l->sessions = h;
        pthread_mutex_unlock(&l->mu);
        took = true;
    }
    arena_free(&a);
    if (took && l->hooks.wake)
        l->hooks.wake(l->hooks.ctx);
}

/* Fails the commands whose device did not answer in time. */
static void expire_commands(links *l)
{
    int64_t now = time_now_ms();
    command *late = NULL;
    pthread_mutex_lock(&l->mu);
    for (command **p = &l->commands; *p;) {
        command *c = *p;
        if (c->deadline > now) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        c->next = late;
        late = c;
    }
    pthread_mutex_unlock(&l->mu);
    finish_all(l, late,
               (links_outcome){"error", "device_timeout",
                               "The device did not report the new state in time."},
               NULL);
}

/* ---- connections asked for in connect webviews ---- */

typedef struct probe {
    links *l;
    pthread_mutex_t mu;
    pthread_cond_t done_cond;
    bool done, ok, up, bad_credentials;
    char *message;
    provider_device *devices; /* copies, for the account */
    size_t count;
    arena a;
} probe;

static void probe_devices(void *ctx, const provider_device *devices, size_t count)
{
    probe *pr = ctx;
    pthread_mutex_lock(&pr->mu);
    if (!pr->done) {
        pr->devices = arena_zalloc(&pr->a, (count ? count : 1) * sizeof *pr->devices);
        for (size_t i = 0; i < count; i++) {
            provider_device d = devices[i];
            d.key = arena_strdup(&pr->a, d.key);
            d.name = arena_strdup(&pr->a, d.name);
            d.model = d.model ? arena_strdup(&pr->a, d.model) : NULL;
            d.device_type = d.device_type ? arena_strdup(&pr->a, d.device_type) : NULL;
            d.manufacturer = d.manufacturer ? arena_strdup(&pr->a, d.manufacturer) : NULL;
            d.extra_properties = d.extra_properties ? arena_strdup(&pr->a, d.extra_properties) : NULL;
            pr->devices[i] = d;
        }
        pr->count = count;
        pr->done = pr->ok = true;
        pthread_cond_broadcast(&pr->done_cond);
    }
    pthread_mutex_unlock(&pr->mu);
}

static void probe_state(void *ctx, const live_state *st)
{
    (void)ctx;
    (void)st;
}

static void probe_up(void *ctx)
{
    probe *pr = ctx;
    pthread_mutex_lock(&pr->mu);
    pr->up = true;
    pthread_mutex_unlock(&pr->mu);
}

static void probe_down(void *ctx, live_down why, const char *message)
{
    probe *pr = ctx;
    pthread_mutex_lock(&pr->mu);
    if (!pr->done) {
        pr->done = true;
        pr->bad_credentials = why == LIVE_BAD_CREDENTIALS;
        pr->message = strdup(message);
        pthread_cond_broadcast(&pr->done_cond);
    }
    pthread_mutex_unlock(&pr->mu);
}

typedef struct connect_try {
    links *l;
    store_live_connect lc; /* strings in a */
    const provider *p;
    arena a;
} connect_try;

typedef struct made {
    connect_try *t;
    probe *pr;
} made;

static err make_account(store *s, void *ctx)
{
    made *m = ctx;
    connect_try *t = m->t;
    store_connect_webview cw;
    err e = store_connect_webview_for_page(s, &t->a, t->lc.connect_webview_id, &cw);
    if (!err_failed(e) && strcmp(cw.status, "pending") != 0)
        e = (err){ERR_NOT_FOUND, "connect_webview_ended", "The connect webview has ended."};
    if (err_failed(e))
        return e;
    provider_account account = {.login = t->lc.login, .devices = m->pr->devices,
                                .device_count = m->pr->count};
    account_connection cn = {.cw = &cw, .p = t->p, .account = &account,
                             .settings_sealed = t->lc.settings_sealed, .now = time_now_ms()};
    e = accounts_connect(s, &t->a, &cn);
    if (!err_failed(e))
        e = store_live_connect_done(s, t->lc.connect_webview_id, t->l->owner);
    return e;
}

/* Opens a session with the webview's settings, waits for the device list
 * (or a refusal), and makes the account, or says why not. */
static void *try_connect(void *arg)
{
    connect_try *t = arg;
    links *l = t->l;
    probe pr = {.l = l};
    pthread_mutex_init(&pr.mu, NULL);
    pthread_cond_init(&pr.done_cond, NULL);
    arena_init(&pr.a);
    const char *settings = token_unseal(&t->a, &l->keys, t->lc.settings_sealed);
    live_sink sink = {&pr, probe_devices, probe_state, probe_up, probe_down};
    live_session *session = settings ? t->p->live->open(settings, &sink) : NULL;
    if (session) {
        struct timespec until = abs_after(PROBE_MS);
        pthread_mutex_lock(&pr.mu);
        while (!pr.done)
            if (pthread_cond_timedwait(&pr.done_cond, &pr.mu, &until) != 0)
                break;
        pthread_mutex_unlock(&pr.mu);
        t->p->live->close(session);
    }
    const char *why = !session ? "The connection could not be started."
                      : pr.ok  ? NULL
                      : pr.message ? pr.message
                      : pr.up ? "Connected, but no device list came. Check the settings (the base topic?)."
                              : "No answer in time.";
    err e = ERR_NONE;
    if (!why) {
        made m = {t, &pr};
        e = store_transaction(l->store, make_account, &m);
        if (err_failed(e) && !store_not_found(e))
            why = "The account could not be saved. Try again.";
        if (!err_failed(e))
            links_wake(l); /* hold the new account now, not at the next look */
    }
    if (why) {
        e = store_live_connect_fail(l->store, t->lc.connect_webview_id, l->owner, why);
        store_connect_webview cw;
        if (!err_failed(e) && pr.bad_credentials &&
            !err_failed(e = store_connect_webview_for_page(l->store, &t->a,
                                                           t->lc.connect_webview_id, &cw))) {
            int64_t failed = 0; /* the page ends the webview after too many */
            e = store_connect_webview_failed_login(l->store, cw.workspace_id,
                                                   t->lc.connect_webview_id, &failed);
        }
    }
    if (err_failed(e) && !store_not_found(e))
        fprintf(stderr, "latchkey: connect webview %s: %s\n", t->lc.connect_webview_id, e.message);
    free(pr.message);
    arena_free(&pr.a);
    pthread_cond_destroy(&pr.done_cond);
    pthread_mutex_destroy(&pr.mu);
    arena_free(&t->a);
    free(t);
    pthread_mutex_lock(&l->mu);
    l->probes--;
    pthread_cond_broadcast(&l->probes_done);
    l->woken = true; /* a try waiting for a free place may start */
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void start_connects(links *l)
{
    pthread_mutex_lock(&l->mu);
    int free_places = CONNECTS_AT_ONCE - l->probes;
    pthread_mutex_unlock(&l->mu);
    if (free_places <= 0)
        return;
    arena a;
    arena_init(&a);
    store_live_connect *list = NULL;
    size_t n = 0;
    err e = store_live_connect_claim(l->store, &a, l->owner, time_now_ms(), PROBE_MS * 2,
                                     (size_t)free_places, &list, &n);
    if (err_failed(e))
        fprintf(stderr, "latchkey: connect requests: %s\n", e.message);
    for (size_t i = 0; !err_failed(e) && i < n; i++) {
        const provider *p = provider_find(list[i].provider);
        connect_try *t = calloc(1, sizeof *t);
        if (!t || !p || !p->live) {
            free(t);
            store_live_connect_fail(l->store, list[i].connect_webview_id, l->owner,
                                    "That provider is not available.");
            continue;
        }
        t->l = l;
        t->p = p;
        arena_init(&t->a);
        t->lc = list[i];
        t->lc.connect_webview_id = arena_strdup(&t->a, list[i].connect_webview_id);
        t->lc.login = arena_strdup(&t->a, list[i].login);
        t->lc.settings_sealed = arena_strdup(&t->a, list[i].settings_sealed);
        pthread_mutex_lock(&l->mu);
        l->probes++;
        pthread_mutex_unlock(&l->mu);
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, try_connect, t) != 0) {
            pthread_mutex_lock(&l->mu);
            l->probes--;
            pthread_mutex_unlock(&l->mu);
            arena_free(&t->a);
            free(t);
        }
        pthread_attr_destroy(&attr);
    }
    arena_free(&a);
}

/* ---- the job ---- */

static void *run(void *arg)
{
    links *l = arg;
    for (;;) {
        start_connects(l);
        hold_accounts(l);
        expire_commands(l);
        pthread_mutex_lock(&l->mu);
        struct timespec until = abs_after(LOOK_MS);
        while (!l->stopping && !l->woken)
            if (pthread_cond_timedwait(&l->wake, &l->mu, &until) != 0)
                break;
        l->woken = false;
        bool stop = l->stopping;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            return NULL;
    }
}

links *links_start(store *s, const token_keys *keys, const links_config *cfg)
{
    links *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->store = s;
    l->keys = *keys;
    l->cfg = *cfg;
    uuid_v4(l->owner);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr); /* CLOCK_REALTIME: deadlines are wall-clock */
    pthread_cond_init(&l->wake, &attr);
    pthread_cond_init(&l->probes_done, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&l->thread, NULL, run, l) != 0) {
        links_free(l);
        return NULL;
    }
    return l;
}

const char *links_owner(const links *l) { return l->owner; }

void links_set_hooks(links *l, const links_hooks *hooks)
{
    pthread_mutex_lock(&l->mu);
    l->hooks = *hooks;
    pthread_mutex_unlock(&l->mu);
}

void links_wake(links *l)
{
    pthread_mutex_lock(&l->mu);
    l->woken = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mu);
}

bool links_command(links *l, const store_action_attempt *aa, const char *device_key, bool lock,
                   int64_t *deadline)
{
    command *c = calloc(1, sizeof *c);
    if (!c)
        return false;
    c->aa = *aa;
    c->aa.action_attempt_id = strdup(aa->action_attempt_id);
    c->aa.workspace_id = strdup(aa->workspace_id);
    c->aa.device_id = strdup(aa->device_id);
    c->aa.connected_account_id = strdup(aa->connected_account_id);
    c->aa.action_type = strdup(aa->action_type);
    c->aa.status = c->aa.error_type = c->aa.error_message = c->aa.lease_owner = NULL;
    c->device_key = dup_or_null(device_key);
    c->lock = lock;
    c->deadline = *deadline = time_now_ms() + l->cfg.command_timeout_ms;
    pthread_mutex_lock(&l->mu);
    held *h = l->sessions;
    while (h && strcmp(h->account_id, aa->connected_account_id) != 0)
        h = h->next;
    bool mine = h && !l->stopping && c->device_key;
    if (mine) {
        /* A command already waiting for this attempt (taken again after a
         * lease ran out) is replaced. */
        for (command **p = &l->commands; *p; p = &(*p)->next)
            if (strcmp((*p)->aa.action_attempt_id, aa->action_attempt_id) == 0) {
                command *old = *p;
                *p = old->next;
                command_free(old);
                break;
            }
        c->sent = h->session && h->p->live->send(h->session, c->device_key, lock);
        c->next = l->commands;
        l->commands = c;
    }
    pthread_mutex_unlock(&l->mu);
    if (!mine)
        command_free(c);
    return mine;
}

void links_stop(links *l)
{
    pthread_mutex_lock(&l->mu);
    bool running = !l->stopping;
    l->stopping = true;
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->mu);
    if (!running)
        return;
    pthread_join(l->thread, NULL);
    pthread_mutex_lock(&l->mu);
    while (l->probes > 0)
        pthread_cond_wait(&l->probes_done, &l->mu);
    held *sessions = l->sessions;
    l->sessions = NULL;
    command *commands = l->commands;
    l->commands = NULL;
    pthread_mutex_unlock(&l->mu);
    while (sessions) {
        held *h = sessions;
        sessions = h->next;
        close_session(h);
    }
    if (!live_links_wait(LINKS_END_MS))
        fprintf(stderr, "latchkey: provider links: a connection did not end within %d ms\n",
                LINKS_END_MS);
    /* Their attempts stay running under the worker's lease: whoever holds
     * the account next takes them when it runs out. */
    while (commands) {
        command *c = commands;
        commands = c->next;
        command_free(c);
    }
    log_failure("provider links of", l->owner, store_provider_links_release(l->store, l->owner));
}

void links_free(links *l)
{
    if (!l)
        return;
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->probes_done);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
