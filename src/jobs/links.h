/* The links job: live providers' connections (providers/live.h). It makes
 * the connections people ask for in connect webviews (off the HTTP threads;
 * the page shows "connecting" meanwhile), holds a session for each live
 * account whose lease (provider_links) this node holds, writes what the
 * sessions report (devices, state, errors, events), and carries device
 * commands: the action worker hands it an attempt, and it finishes the
 * attempt when the device reports the state asked for, or fails it when
 * the device reports a jam or says nothing within the command timeout. */
#ifndef LATCHKEY_JOBS_LINKS_H
#define LATCHKEY_JOBS_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/tokens.h"
#include "store/store.h"

typedef struct links links;

/* How an attempt ended. */
typedef struct links_outcome {
    const char *status;     /* success, error */
    const char *error_type; /* NULL on success */
    const char *error_message;
} links_outcome;

/* The action worker's side. */
typedef struct links_hooks {
    void *ctx;
    /* Records the attempt's outcome. */
    void (*finish)(void *ctx, const store_action_attempt *aa, bool lock, links_outcome out);
    /* This node took over an account: attempts waiting for it are its own. */
    void (*wake)(void *ctx);
} links_hooks;

typedef struct links_config {
    int64_t command_timeout_ms; /* a device that does not answer a command */
    int64_t lease_ms;           /* how long a dead node holds its accounts */
} links_config;

links *links_start(store *s, const token_keys *keys, const links_config *cfg);
/* The id this node's leases carry (the action worker claims with it). */
const char *links_owner(const links *l);
void links_set_hooks(links *l, const links_hooks *hooks);
/* A connect webview asked for a connection: look now. */
void links_wake(links *l);
/* Sends the attempt's command to the device through the account's session
 * (at once, or when the session comes up); true when it is this node's to
 * finish, until now + the command timeout (*deadline). False when this
 * node does not hold the account (the attempt is retried elsewhere). */
bool links_command(links *l, const store_action_attempt *aa, const char *device_key, bool lock,
                   int64_t *deadline);
/* Stops: sessions closed, leases given up, no hook called after it. */
void links_stop(links *l);
void links_free(links *l);

#endif
