/* Parameter extraction and validation (params.h). One accessor set serves
 * both sources: a JSON object, or query pairs with string values. */
#include "api/params.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "core/utf8.h"

typedef struct used_key {
    const char *key;
    struct used_key *next;
} used_key;

struct params {
    arena *a;
    json_t *body;         /* JSON source (borrowed), or NULL */
    const api_kv *kv;     /* query source */
    size_t nkv;
    used_key *used;
    json_t *errors;       /* owned; NULL until the first problem */
    const char *first_problem;
};

params *params_from_json(arena *a, json_t *body)
{
    params *p = arena_zalloc(a, sizeof *p);
    p->a = a;
    p->body = body;
    return p;
}

params *params_from_query(arena *a, const api_kv *kv, size_t n)
{
    params *p = arena_zalloc(a, sizeof *p);
    p->a = a;
    p->kv = kv;
    p->nkv = n;
    return p;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* '+' is a space, %XX a byte; a malformed escape stays as it is. */
static char *form_unescape(arena *a, const char *s, size_t len)
{
    char *out = arena_alloc(a, len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
                   (lo = hex_value(s[i + 2])) >= 0 && (hi || lo)) { /* never a NUL */
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

void form_decode(arena *a, const char *body, size_t len, api_kv **kv, size_t *n, size_t *cap)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        size_t eq = i;
        while (eq < end && body[eq] != '=')
            eq++;
        if (end > i) {
            *kv = arena_grow(a, *kv, *n, cap, sizeof **kv);
            (*kv)[*n].key = form_unescape(a, body + i, eq - i);
            (*kv)[*n].value = eq < end ? form_unescape(a, body + eq + 1, end - eq - 1) : "";
            (*n)++;
        }
        i = end + 1;
    }
}

void params_free(params *p)
{
    if (p && p->errors)
        json_decref(p->errors);
}

static void mark_used(params *p, const char *key)
{
    used_key *u = arena_alloc(p->a, sizeof *u);
    u->key = key;
    u->next = p->used;
    p->used = u;
}

static bool is_used(const params *p, const char *key)
{
    for (const used_key *u = p->used; u; u = u->next)
        if (strcmp(u->key, key) == 0)
            return true;
    return false;
}

void param_reject(params *p, const char *key, const char *message)
{
    if (!p->errors)
        p->errors = json_object();
    json_t *entry = json_object_get(p->errors, key);
    if (!entry) {
        entry = json_pack("{s:[]}", "_errors");
        /* jansson frees entry when it refuses key (not UTF-8). */
        if (json_object_set_new(p->errors, key, entry) != 0)
            entry = NULL;
    }
    json_array_append_new(json_object_get(entry, "_errors"), json_string(message));
    if (!p->first_problem)
        p->first_problem = arena_sprintf(p->a, "%s: %s", key, message);
}

/* JSON source: the value of key, NULL when absent or null. */
static json_t *json_value(params *p, const char *key)
{
    json_t *v = json_object_get(p->body, key);
    return json_is_null(v) ? NULL : v;
}

/* Query source: the values of key, in order. Returns the count. */
static size_t query_values(params *p, const char *key, const char ***out)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nkv; i++)
        if (strcmp(p->kv[i].key, key) == 0)
            n++;
    if (n == 0)
        return 0;
    const char **vals = arena_alloc(p->a, n * sizeof *vals);
    size_t j = 0;
    for (size_t i = 0; i < p->nkv; i++)
        if (strcmp(p->kv[i].key, key) == 0)
            vals[j++] = p->kv[i].value;
    *out = vals;
    return n;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static void reject_type(params *p, const char *key, const char *expected, const json_t *got)
{
    param_reject(p, key, arena_sprintf(p->a, "Expected %s, received %s", expected,
                                       json_type_name(got)));
}

/* The single raw value of a scalar parameter: from JSON (any type) or from
 * the query (a string). Returns false when absent or on error. */
static bool scalar(params *p, const char *key, json_t **jv, const char **qv)
{
    mark_used(p, key);
    *jv = NULL;
    *qv = NULL;
    if (p->body) {
        *jv = json_value(p, key);
        return *jv != NULL;
    }
    const char **vals;
    size_t n = query_values(p, key, &vals);
    if (n == 0)
        return false;
    if (n > 1) {
        param_reject(p, key, "Expected a single value, received several");
        return false;
    }
    if (vals[0][0] == '\0')
        return false; /* "key=" on a scalar: not given */
    *qv = vals[0];
    return true;
}

bool param_null(params *p, const char *key)
{
    mark_used(p, key);
    return p->body && json_is_null(json_object_get(p->body, key));
}

bool param_present(params *p, const char *key)
{
    if (p->body)
        return json_value(p, key) != NULL;
    const char **vals;
    return query_values(p, key, &vals) > 0;
}

static bool length_ok(params *p, const char *key, const char *s, size_t max)
{
    if (utf8_utf16_length(s) <= max)
        return true;
    param_reject(p, key, arena_sprintf(p->a, "String must contain at most %zu character(s)", max));
    return false;
}

bool param_long_str(params *p, const char *key, size_t max, const char **out)
{
    json_t *jv;
    const char *qv;
    if (!scalar(p, key, &jv, &qv))
        return false;
    const char *v = qv;
    if (jv) {
        if (!json_is_string(jv)) {
            reject_type(p, key, "string", jv);
            return false;
        }
        v = json_string_value(jv); /* jansson refuses \u0000 */
    }
    if (!length_ok(p, key, v, max))
        return false;
    *out = jv ? arena_strdup(p->a, v) : v;
    return true;
}

bool param_str(params *p, const char *key, const char **out)
{
    return param_long_str(p, key, PARAM_MAX_TEXT, out);
}

bool param_nonempty_str(params *p, const char *key, const char **out)
{
    if (!param_str(p, key, out))
        return false;
    if (**out == '\0') {
        param_reject(p, key, "String must contain at least 1 character(s)");
        return false;
    }
    return true;
}

static bool list_size_ok(params *p, const char *key, size_t n)
{
    if (n <= PARAM_MAX_LIST)
        return true;
    param_reject(p, key, arena_sprintf(p->a, "Array must contain at most %d element(s)",
                                       PARAM_MAX_LIST));
    return false;
}

bool param_choice(params *p, const char *key, const char *const *choices, const char **out)
{
    const char *v;
    if (!param_str(p, key, &v))
        return false;
    const char *expected = "";
    for (const char *const *c = choices; *c; c++) {
        if (strcmp(v, *c) == 0) {
            *out = v;
            return true;
        }
        expected = arena_sprintf(p->a, "%s%s%s", expected, *expected ? ", " : "", *c);
    }
    param_reject(p, key, arena_sprintf(p->a, "Expected one of: %s", expected));
    return false;
}

const char *param_required_str(params *p, const char *key)
{
    const char *v = NULL;
    if (!param_nonempty_str(p, key, &v) && !param_present(p, key))
        param_reject(p, key, "Required");
    return v;
}

void param_either(params *p, const char *key_a, const char **a, const char *key_b,
                  const char **b)
{
    *a = *b = NULL;
    param_nonempty_str(p, key_a, a);
    param_nonempty_str(p, key_b, b);
    if (!*a && !*b && !param_present(p, key_a) && !param_present(p, key_b))
        param_reject(p, key_a, arena_sprintf(p->a, "Required: %s or %s", key_a, key_b));
}

bool param_str_list(params *p, const char *key, str_list *out)
{
    mark_used(p, key);
    if (p->body) {
        json_t *v = json_value(p, key);
        if (!v)
            return false;
        if (!json_is_array(v)) {
            reject_type(p, key, "array", v);
            return false;
        }
        size_t n = json_array_size(v);
        if (!list_size_ok(p, key, n))
            return false;
        const char **items = arena_alloc(p->a, (n ? n : 1) * sizeof *items);
        for (size_t i = 0; i < n; i++) {
            json_t *item = json_array_get(v, i);
            if (!json_is_string(item)) {
                param_reject(p, key, arena_sprintf(p->a, "Item %zu: expected string, received %s",
                                                   i, json_type_name(item)));
                return false;
            }
            if (json_string_length(item) == 0) {
                param_reject(p, key, "Items must not be empty strings");
                return false;
            }
            if (!length_ok(p, key, json_string_value(item), PARAM_MAX_TEXT))
                return false;
            items[i] = arena_strdup(p->a, json_string_value(item));
        }
        *out = (str_list){items, n};
        return true;
    }
    const char **vals;
    size_t n = query_values(p, key, &vals);
    if (n == 0)
        return false;
    if (n == 1 && vals[0][0] == '\0') {
        *out = (str_list){vals, 0}; /* "key=": the empty array */
        return true;
    }
    if (!list_size_ok(p, key, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (vals[i][0] == '\0') {
            param_reject(p, key, "Items must not be empty strings");
            return false;
        }
        if (!length_ok(p, key, vals[i], PARAM_MAX_TEXT))
            return false;
    }
    *out = (str_list){vals, n};
    return true;
}

bool param_bool(params *p, const char *key, bool *out)
{
    json_t *jv;
    const char *qv;
    if (!scalar(p, key, &jv, &qv))
        return false;
    if (jv) {
        if (!json_is_boolean(jv)) {
            reject_type(p, key, "boolean", jv);
            return false;
        }
        *out = json_is_true(jv);
        return true;
    }
    if (strcmp(qv, "true") == 0 || strcmp(qv, "false") == 0) {
        *out = qv[0] == 't';
        return true;
    }
    param_reject(p, key, "Expected boolean (true or false)");
    return false;
}

/* A decimal integer with an optional sign, nothing else. */
static bool parse_int64(const char *s, int64_t *out)
{
    const char *digits = s + (*s == '-' || *s == '+');
    if (*digits < '0' || *digits > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0')
        return false;
    *out = v;
    return true;
}

bool param_int(params *p, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_t *jv;
    const char *qv;
    if (!scalar(p, key, &jv, &qv))
        return false;
    int64_t v;
    if (jv && json_is_integer(jv)) {
        v = json_integer_value(jv);
    } else if (jv && json_is_real(jv)) {
        /* 10.0 is 10; the bounds keep the conversion defined. */
        double d = json_real_value(jv);
        if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d) {
            param_reject(p, key, "Expected integer");
            return false;
        }
        v = (int64_t)d;
    } else if (jv) {
        reject_type(p, key, "number", jv);
        return false;
    } else if (!parse_int64(qv, &v)) {
        param_reject(p, key, "Expected integer");
        return false;
    }
    if (v < min || v > max) {
        param_reject(p, key, arena_sprintf(p->a, "Must be between %lld and %lld",
                                           (long long)min, (long long)max));
        return false;
    }
    *out = v;
    return true;
}

bool param_number(params *p, const char *key, double min, double max, double *out)
{
    json_t *jv;
    const char *qv;
    if (!scalar(p, key, &jv, &qv))
        return false;
    double v;
    char *end = NULL;
    if (jv && json_is_number(jv)) {
        v = json_number_value(jv);
    } else if (jv) {
        reject_type(p, key, "number", jv);
        return false;
    } else if (!*qv || (v = strtod(qv, &end), *end)) {
        param_reject(p, key, "Expected number");
        return false;
    }
    if (!(v >= min && v <= max)) {
        param_reject(p, key, arena_sprintf(p->a, "Must be between %g and %g", min, max));
        return false;
    }
    *out = v;
    return true;
}

bool param_object(params *p, const char *key, json_t **out)
{
    mark_used(p, key);
    if (p->body) {
        json_t *v = json_value(p, key);
        if (!v)
            return false;
        if (!json_is_object(v)) {
            reject_type(p, key, "object", v);
            return false;
        }
        *out = json_incref(v);
        return true;
    }
    size_t klen = strlen(key);
    json_t *obj = NULL;
    for (size_t i = 0; i < p->nkv; i++) {
        const char *k = p->kv[i].key, *v = p->kv[i].value;
        if (strncmp(k, key, klen) != 0 || k[klen] != '.' || !k[klen + 1])
            continue;
        mark_used(p, k);
        if (!obj)
            obj = json_object();
        json_t *value = strcmp(v, "true") == 0    ? json_true()
                        : strcmp(v, "false") == 0 ? json_false()
                                                  : json_string(v);
        json_object_set_new(obj, k + klen + 1, value);
    }
    *out = obj;
    return obj != NULL;
}

bool param_time(params *p, const char *key, int64_t *out)
{
    const char *s;
    if (!param_str(p, key, &s))
        return false;
    if (!time_parse_iso8601(s, out)) {
        param_reject(p, key, "Invalid datetime: expected ISO 8601, such as 2026-01-31T12:00:00Z");
        return false;
    }
    return true;
}

err params_check(params *p)
{
    if (p->body) {
        const char *key;
        json_t *v;
        json_object_foreach(p->body, key, v) {
            if (key[0] != '_' && !is_used(p, key))
                param_reject(p, key, "Unrecognized key: this route does not take it");
        }
    } else {
        for (size_t i = 0; i < p->nkv; i++) {
            const char *key = p->kv[i].key;
            if (key[0] != '_' && !is_used(p, key)) {
                mark_used(p, key); /* report a repeated key once */
                param_reject(p, key, "Unrecognized key: this route does not take it");
            }
        }
    }
    if (!p->errors)
        return ERR_NONE;
    return err_make(ERR_BAD_REQUEST, "invalid_input",
                    arena_sprintf(p->a, "Invalid input: %s", p->first_problem));
}

json_t *params_validation_errors(params *p) { return p->errors; }

const str_list *str_list_intersect(arena *a, const str_list *list, const str_list *within)
{
    str_list *out = arena_zalloc(a, sizeof *out);
    const char **items = arena_alloc(a, (list->count + 1) * sizeof *items);
    for (size_t i = 0; i < list->count; i++)
        for (size_t j = 0; j < within->count; j++)
            if (strcmp(list->items[i], within->items[j]) == 0) {
                items[out->count++] = list->items[i];
                break;
            }
    out->items = items;
    return out;
}

const str_list *filter_values(arena *a, const char *single, const str_list *list)
{
    if (!single)
        return list;
    const char **one = arena_alloc(a, sizeof *one);
    one[0] = single;
    str_list *out = arena_zalloc(a, sizeof *out);
    *out = (str_list){one, 1};
    return list ? str_list_intersect(a, out, list) : out;
}

bool param_names_absent_resource(params *p, const char *const *keys)
{
    bool given = false;
    for (const char *const *k = keys; *k; k++) {
        str_list list;
        const char *one;
        size_t len = strlen(*k);
        bool is_list = p->body ? json_is_array(json_value(p, *k))
                               : len > 4 && strcmp(*k + len - 4, "_ids") == 0;
        given |= is_list ? param_str_list(p, *k, &list) : param_str(p, *k, &one);
    }
    return given;
}
