/* HTML templates from web/ (compiled in): "{{name}}" is replaced by the
 * value HTML-escaped, "{{{name}}}" by the value as it is (already HTML). */
#ifndef LATCHKEY_TEMPLATES_H
#define LATCHKEY_TEMPLATES_H

#include <stddef.h>

#include "core/arena.h"

typedef struct template_var {
    const char *name;
    const char *value; /* NULL renders as nothing */
} template_var;

/* Renders the named template; NULL when there is no such template. */
char *template_render(arena *a, const char *name, const template_var *vars, size_t nvars);
char *html_escape(arena *a, const char *s);

#endif
