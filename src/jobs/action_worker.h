/* The background worker that completes device actions: it claims action
 * attempts from the store with a lease when they are due (and those whose
 * node died, once its lease runs out), asks the device's provider to act,
 * and records the outcome (device state, attempt, events) in one
 * transaction, only while it still holds the lease. Attempts are rows in
 * the store, so they survive a restart; the worker also looks again every
 * second, so attempts another node queued are not missed. The same
 * thread runs the access-code scheduler (jobs/access_codes.h). */
#ifndef LATCHKEY_ACTION_WORKER_H
#define LATCHKEY_ACTION_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "jobs/links.h"
#include "store/store.h"

typedef struct action_worker action_worker;

/* Claims with the links job's node id, and hands it the attempts on live
 * providers' devices. Between attempts it moves the temperature of sandbox
 * thermostats that heat or cool, climate_degrees_per_hour (Celsius; 0:
 * never), through the store (climate_step). */
action_worker *action_worker_start(store *s, links *l, unsigned climate_degrees_per_hour);
void action_worker_stop(action_worker *w);
/* A new attempt is pending: look now. */
void action_worker_wake(action_worker *w);
/* Waits until the worker has finished some attempt since *seen (a count
 * this call keeps: start it at 0) or deadline_ms (wall clock) passes; the
 * caller then checks the attempts it cares about. A finish while the
 * caller was checking is not missed: the count has moved on. */
void action_worker_wait(action_worker *w, int64_t deadline_ms, uint64_t *seen);

#endif
