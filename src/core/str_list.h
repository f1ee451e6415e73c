/* A list of strings handed between layers (request parameters, filters,
 * store queries): borrowed items, in an arena or elsewhere. */
#ifndef LATCHKEY_STR_LIST_H
#define LATCHKEY_STR_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct str_list {
    const char *const *items;
    size_t count;
} str_list;

/* Whether a comma-separated list (as stored: "august,yale"; NULL: empty)
 * holds name. */
bool comma_list_has(const char *list, const char *name);

#endif
