/* Recording an event, whichever backend stores it: a fresh id and the
 * current time, then store_event_add. */
#include "core/ids.h"
#include "core/timeutil.h"
#include "store/store.h"

err store_event_record(store *s, store_event ev)
{
    char id[UUID_STR_LEN];
    uuid_v4(id);
    ev.event_id = id;
    ev.created_at = time_now_ms();
    return store_event_add(s, &ev);
}
