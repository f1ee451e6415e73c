/* Starting an action attempt on a device (locks, thermostats, noise
 * sensors): the attempt is created pending and due after the action delay,
 * the worker is woken, and the call answers with the attempt at once, or
 * with sync when it is done. */
#ifndef LATCHKEY_API_ACTIONS_H
#define LATCHKEY_API_ACTIONS_H

#include "api/handler.h"

/* What an attempt may come with: a write of the caller's, made in the
 * transaction that creates the attempt (the change the attempt reports
 * on), and members the answer has besides the attempt. */
typedef struct action_extra {
    err (*write)(store *s, void *ctx); /* NULL: none */
    void *ctx;
    json_t *answer; /* an object (action_start takes it), or NULL */
} action_extra;

/* asked: a JSON object of what the action asks for, or NULL; x: NULL, or
 * what the attempt comes with. */
err action_start(api_call *c, const store_device *d, const char *action_type, const char *asked,
                 bool sync, const action_extra *x);

#endif
