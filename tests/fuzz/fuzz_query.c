/* Fuzz target for api/params: form_decode and params_from_query (or
 * params_from_json) under every accessor, then params_check, the
 * validation errors object and params_free. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/params.h"
#include "fuzz_support.h"

/* Reads every byte of a result, so that ASan sees any that is not there. */
static void touch(const char *s)
{
    if (s && strlen(s) == (size_t)-1)
        abort();
}

static void touch_list(const str_list *l)
{
    for (size_t i = 0; l && i < l->count; i++)
        touch(l->items[i]);
}

/* One accessor call, written "<op> <key>" or "<op> <key> <key2>":
 * s str, n nonempty_str, r required_str, l str_list, b bool, i int in
 * [1, 1000], I int in the whole int64 range, t time, o object, N null,
 * p present, e either(key, key2), f filter_values(str key, list key2),
 * x reject(key, "message"). */
static void call(params *p, arena *a, char op, char *key)
{
    char *key2 = strchr(key, ' ');
    if (key2)
        *key2++ = '\0';
    const char *s = NULL, *s2 = NULL;
    str_list l = {0};
    bool b;
    int64_t v;
    json_t *o = NULL;
    switch (op) {
    case 's': param_str(p, key, &s); break;
    case 'n': param_nonempty_str(p, key, &s); break;
    case 'r': s = param_required_str(p, key); break;
    case 'l': param_str_list(p, key, &l); break;
    case 'b': param_bool(p, key, &b); break;
    case 'i': param_int(p, key, 1, 1000, &v); break;
    case 'I': param_int(p, key, INT64_MIN, INT64_MAX, &v); break;
    case 't': param_time(p, key, &v); break;
    case 'o':
        if (param_object(p, key, &o)) {
            char *dump = json_dumps(o, JSON_COMPACT);
            touch(dump);
            free(dump);
            json_decref(o);
        }
        break;
    case 'N': param_null(p, key); break;
    case 'p': param_present(p, key); break;
    case 'e': param_either(p, key, &s, key2 ? key2 : "", &s2); break;
    case 'f': {
        param_str(p, key, &s);
        bool listed = param_str_list(p, key2 ? key2 : "", &l);
        touch_list(filter_values(a, s, listed ? &l : NULL));
        break;
    }
    case 'x': param_reject(p, key, "rejected by the fuzz input"); break;
    default: break;
    }
    touch(s);
    touch(s2);
    touch_list(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a);
    fuzz_input in = {data, size};
    const char *source = fuzz_line(&in, &a);
    if (!source)
        source = "";
    /* The first line: a JSON object if it is one, else a query string. */
    json_t *body = json_loads(source, JSON_REJECT_DUPLICATES, NULL);
    if (body && !json_is_object(body)) {
        json_decref(body);
        body = NULL;
    }
    params *p;
    if (body) {
        p = params_from_json(&a, body);
    } else {
        api_kv *kv;
        size_t n = fuzz_query(&a, source, &kv);
        p = params_from_query(&a, kv, n);
    }
    for (char *line; (line = fuzz_line(&in, &a));)
        if (line[0] && line[1] == ' ')
            call(p, &a, line[0], line + 2);
    err e = params_check(p);
    touch(e.message);
    json_t *errors = params_validation_errors(p);
    if (err_failed(e) != (errors != NULL))
        abort(); /* invalid_input always names its parameters, and only then */
    if (errors) {
        char *dump = json_dumps(errors, JSON_COMPACT);
        if (!dump)
            abort();
        free(dump);
    }
    params_free(p);
    json_decref(body);
    arena_free(&a);
    return 0;
}
