/* Starting an action attempt on a device (locks, thermostats): the attempt
 * is created pending and due after the action delay, the worker is woken,
 * and the call answers with the attempt at once, or with sync when it is
 * done. */
#ifndef LATCHKEY_API_ACTIONS_H
#define LATCHKEY_API_ACTIONS_H

#include "api/handler.h"

/* asked: a JSON object of what the action asks for, or NULL. */
err action_start(api_call *c, const store_device *d, const char *action_type, const char *asked,
                 bool sync);

#endif
