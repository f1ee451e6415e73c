/* A list of strings handed between layers (request parameters, filters,
 * store queries): borrowed items, in an arena or elsewhere. */
#ifndef LATCHKEY_STR_LIST_H
#define LATCHKEY_STR_LIST_H

#include <stddef.h>

typedef struct str_list {
    const char *const *items;
    size_t count;
} str_list;

#endif
