/* JSON values as text (json_text.h). */
#include "core/json_text.h"

#include <stdlib.h>

const char *json_text(arena *a, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    const char *out = text ? arena_strdup(a, text) : NULL;
    free(text);
    return out;
}
