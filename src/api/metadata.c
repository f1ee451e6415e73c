/* custom_metadata rules, merging and filters (metadata.h). */
#include "api/metadata.h"

#include <stdlib.h>

#include <string.h>

#include "api/render.h"
#include "core/utf8.h"

enum { METADATA_MAX_KEYS = 50, METADATA_MAX_KEY = 40, METADATA_MAX_VALUE = 500 };

static bool key_ok(const char *k)
{
    size_t n = utf8_utf16_length(k);
    if (n == 0 || n > METADATA_MAX_KEY)
        return false;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return false;
    return true;
}

/* Checks every pair; rejects the parameter with the first problem. */
static bool metadata_valid(api_call *c, const char *param, json_t *obj, bool allow_null)
{
    if (json_object_size(obj) > METADATA_MAX_KEYS) {
        param_reject(c->p, param, "At most 50 keys");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        const char *problem = NULL;
        if (!key_ok(k))
            problem = "Keys have 1 to 40 characters, without quotes, backslashes or control characters";
        else if (json_is_string(v) &&
                 utf8_utf16_length(json_string_value(v)) > METADATA_MAX_VALUE)
            problem = "String values have at most 500 characters";
        else if (!json_is_string(v) && !json_is_boolean(v) && !(allow_null && json_is_null(v)))
            problem = "Values are strings or booleans";
        if (problem) {
            param_reject(c->p, param, arena_sprintf(c->a, "%s: %s", k, problem));
            return false;
        }
    }
    return true;
}

void metadata_read(api_call *c, const char *key, bool allow_null, json_t **out)
{
    *out = NULL;
    json_t *obj;
    if (!param_object(c->p, key, &obj))
        return;
    if (!metadata_valid(c, key, obj, allow_null)) {
        json_decref(obj);
        return;
    }
    *out = obj;
}

const char *metadata_merge(arena *a, const char *stored, json_t *changes)
{
    json_t *merged = render_stored_object(stored);
    const char *k;
    json_t *v;
    json_object_foreach(changes, k, v) {
        if (json_is_null(v))
            json_object_del(merged, k);
        else
            json_object_set(merged, k, v);
    }
    if (json_object_size(merged) > METADATA_MAX_KEYS) {
        json_decref(merged);
        return NULL;
    }
    char *text = json_dumps(merged, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(merged);
    const char *out = arena_strdup(a, text ? text : "{}");
    free(text);
    return out;
}

typedef struct metadata_change {
    api_call *c;
    json_t *changes;
    const metadata_target *t;
} metadata_change;

static err apply_metadata_change(store *s, void *ctx)
{
    const metadata_change *ch = ctx;
    api_call *c = ch->c;
    const char *stored = NULL, *merged = NULL;
    err e = ch->t->read(c, s, ch->t->obj, &stored);
    if (err_failed(e))
        return e;
    if (ch->changes && !(merged = metadata_merge(c->a, stored, ch->changes))) {
        param_reject(c->p, "custom_metadata",
                     "At most 50 keys, counting those already set and not removed");
        return params_check(c->p);
    }
    return ch->t->write(c, s, ch->t->obj, merged);
}

err metadata_update(api_call *c, json_t *changes, const metadata_target *t)
{
    metadata_change ch = {c, changes, t};
    return store_transaction(c->srv->store, apply_metadata_change, &ch);
}

const metadata_filter *metadata_filter_read(api_call *c, const char *key)
{
    json_t *obj = NULL;
    metadata_read(c, key, false, &obj);
    if (!obj)
        return NULL;
    metadata_filter *f = arena_zalloc(c->a, sizeof *f);
    metadata_match *items = arena_alloc(c->a, (json_object_size(obj) + 1) * sizeof *items);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        items[f->count++] = (metadata_match){
            .key = arena_strdup(c->a, k),
            .is_bool = json_is_boolean(v),
            .bool_value = json_is_true(v),
            .str_value = json_is_string(v) ? arena_strdup(c->a, json_string_value(v)) : NULL,
        };
    }
    f->items = items;
    json_decref(obj);
    return f;
}
