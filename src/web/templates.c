/* A minimal template engine for the pages latchkey serves (templates.h). */
#include "web/templates.h"

#include <stdbool.h>
#include <string.h>

#include "core/embedded.h"

char *html_escape(arena *a, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += strchr("&<>\"'", *p) ? 6 : 1;
    char *out = arena_alloc(a, n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&'   ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                          : *p == '"' ? "&quot;"
                          : *p == '\'' ? "&#39;"
                                       : NULL;
        if (rep) {
            size_t len = strlen(rep);
            memcpy(o, rep, len);
            o += len;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static const char *find_template(const char *name)
{
    for (const embedded_file *f = web_templates; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f->text;
    return NULL;
}

static const char *lookup(const template_var *vars, size_t nvars, const char *name, size_t len)
{
    for (size_t i = 0; i < nvars; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
            return vars[i].value ? vars[i].value : "";
    return "";
}

char *template_render(arena *a, const char *name, const template_var *vars, size_t nvars)
{
    const char *t = find_template(name);
    if (!t)
        return NULL;
    char *out = arena_strdup(a, "");
    while (*t) {
        const char *open = strstr(t, "{{");
        if (!open)
            return arena_sprintf(a, "%s%s", out, t);
        bool raw = open[2] == '{';
        const char *start = open + (raw ? 3 : 2);
        const char *close = strstr(start, raw ? "}}}" : "}}");
        if (!close)
            return arena_sprintf(a, "%s%s", out, t);
        const char *value = lookup(vars, nvars, start, (size_t)(close - start));
        out = arena_sprintf(a, "%s%.*s%s", out, (int)(open - t), t,
                            raw ? value : html_escape(a, value));
        t = close + (raw ? 3 : 2);
    }
    return out;
}
