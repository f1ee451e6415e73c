/* A JSON value as compact text in an arena: how the settings, parameters
 * and properties latchkey stores as serialized objects are written. */
#ifndef LATCHKEY_JSON_TEXT_H
#define LATCHKEY_JSON_TEXT_H

#include <jansson.h>

#include "core/arena.h"

/* The text, or NULL when out of memory; takes the reference to o. */
const char *json_text(arena *a, json_t *o);

#endif
