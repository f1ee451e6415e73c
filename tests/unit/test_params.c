/* Unit tests for api/params: typed parameters from a JSON body or a query
 * string, and params_check's single invalid_input error that names every
 * rejected or unrecognized key. */
#include "unit_fixtures.h"

#include "api/params.h"

/* ---- fixture: one arena, at most one JSON body and one params ---- */

typedef struct fx {
    arena a;
    json_t *body;
    params *p;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    arena_init(&f->a);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    params_free(f->p);
    json_decref(f->body);
    arena_free(&f->a);
    free(f);
    return 0;
}

static params *from_json(void **state, const char *text)
{
    fx *f = *state;
    json_error_t jerr;
    f->body = json_loads(text, 0, &jerr);
    if (!f->body)
        fail_msg("bad JSON in test: %s (%s)", text, jerr.text);
    f->p = params_from_json(&f->a, f->body);
    return f->p;
}

/* "a=1&b=&c" style: each '&'-separated pair split at the first '='; a bare
 * key has the value "". No percent-decoding (the HTTP layer does that). */
static params *from_query(void **state, const char *qs)
{
    fx *f = *state;
    size_t cap = 1;
    for (const char *c = qs; *c; c++)
        cap += *c == '&';
    api_kv *kv = arena_alloc(&f->a, cap * sizeof *kv);
    size_t n = 0;
    char *copy = arena_strdup(&f->a, qs);
    char *save = NULL;
    for (char *pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq) {
            *eq = '\0';
            kv[n++] = (api_kv){pair, eq + 1};
        } else {
            kv[n++] = (api_kv){pair, ""};
        }
    }
    f->p = params_from_query(&f->a, kv, n);
    return f->p;
}

static params *from_kv(void **state, const api_kv *kv, size_t n)
{
    fx *f = *state;
    f->p = params_from_query(&f->a, kv, n);
    return f->p;
}

static arena *fx_arena(void **state) { return &((fx *)*state)->a; }

/* Drops the body and params read so far, for another read in the same test. */
static void fx_reset(void **state)
{
    fx *f = *state;
    params_free(f->p);
    f->p = NULL;
    json_decref(f->body);
    f->body = NULL;
}

/* The _errors array of key in the validation errors, or NULL. */
static json_t *errors_of(params *p, const char *key)
{
    json_t *all = params_validation_errors(p);
    if (!all)
        return NULL;
    json_t *entry = json_object_get(all, key);
    if (!entry)
        return NULL;
    json_t *list = json_object_get(entry, "_errors");
    assert_true(json_is_array(list));
    return list;
}

static size_t nerrors_of(params *p, const char *key)
{
    json_t *l = errors_of(p, key);
    return l ? json_array_size(l) : 0;
}

/* Whether any message for key contains needle. */
static bool error_mentions(params *p, const char *key, const char *needle)
{
    json_t *l = errors_of(p, key);
    size_t i;
    json_t *m;
    if (!l)
        return false;
    json_array_foreach(l, i, m) {
        assert_true(json_is_string(m));
        assert_true(json_string_length(m) > 0);
        if (strstr(json_string_value(m), needle))
            return true;
    }
    return false;
}

static void assert_invalid_input(params *p)
{
    err e = params_check(p);
    assert_true(err_failed(e));
    assert_int_equal(e.kind, ERR_BAD_REQUEST);
    assert_string_equal(e.type, "invalid_input");
    assert_non_null(e.message);
    assert_true(strlen(e.message) > 0);
    assert_non_null(params_validation_errors(p));
    assert_true(json_is_object(params_validation_errors(p)));
}

static void assert_ok(params *p)
{
    err e = params_check(p);
    if (err_failed(e))
        fail_msg("expected no problem, got %s: %s", e.type, e.message);
    assert_null(params_validation_errors(p));
}

/* A NULL-terminated list of keys or strings. */
#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
static const char *const NO_ITEMS[] = {NULL};

/* Each of keys has exactly one problem reported. */
static void assert_one_problem_each(params *p, const char *const *keys)
{
    for (; *keys; keys++)
        if (nerrors_of(p, *keys) != 1)
            fail_msg("%zu problems for %s, expected one", nerrors_of(p, *keys), *keys);
}

/* A word that a problem reported for key must contain. */
typedef struct mention {
    const char *key, *word;
} mention;
#define MENTIONS(...) ((const mention[]){__VA_ARGS__, {NULL, NULL}})

static void assert_mentions(params *p, const mention *m)
{
    for (; m->key; m++)
        if (!error_mentions(p, m->key, m->word))
            fail_msg("no problem for %s mentions \"%s\"", m->key, m->word);
}

/* param_present says yes to each of present and no to each of absent. */
static void assert_presence(params *p, const char *const *present, const char *const *absent)
{
    for (; *present; present++)
        if (!param_present(p, *present))
            fail_msg("%s not present", *present);
    for (; *absent; absent++)
        if (param_present(p, *absent))
            fail_msg("%s present", *absent);
}

/* assert_reads_*: p gives key, read as that type, as want. The output starts
 * as something else, so the read must have written it. */
static void assert_reads_str(params *p, const char *key, const char *want)
{
    const char *s = NULL;
    assert_true(param_str(p, key, &s));
    assert_string_equal(s, want);
}

/* want: the items, NULL-terminated. */
static void assert_reads_list(params *p, const char *key, const char *const *want)
{
    str_list l = {(const char **)1, 99};
    assert_true(param_str_list(p, key, &l));
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(l.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l.items[i], want[i]);
}

static void assert_reads_bool(params *p, const char *key, bool want)
{
    bool b = !want;
    assert_true(param_bool(p, key, &b));
    assert_int_equal(b, want);
}

static void assert_reads_int(params *p, const char *key, int64_t min, int64_t max, int64_t want)
{
    int64_t v = ~want;
    assert_true(param_int(p, key, min, max, &v));
    assert_int_equal(v, want);
}

static void assert_reads_time(params *p, const char *key, int64_t want)
{
    int64_t t = ~want;
    assert_true(param_time(p, key, &t));
    assert_int_equal(t, want);
}

/* param_int(min, max) refuses each of keys and leaves the value alone. */
static void assert_ints_refused(params *p, const char *const *keys, int64_t min, int64_t max)
{
    for (; *keys; keys++) {
        int64_t v = 77;
        if (param_int(p, *keys, min, max, &v))
            fail_msg("%s accepted as an integer (%lld)", *keys, (long long)v);
        assert_int_equal(v, 77);
    }
}

/* ---- strings ---- */

static void json_str_present(void **state)
{
    params *p = from_json(state, "{\"name\": \"front door\"}");
    assert_reads_str(p, "name", "front door");
    assert_ok(p);
}

static void json_str_absent(void **state)
{
    params *p = from_json(state, "{}");
    const char *s = "untouched";
    assert_false(param_str(p, "name", &s));
    assert_string_equal(s, "untouched");
    assert_ok(p);
}

static void json_str_empty_is_a_string(void **state)
{
    params *p = from_json(state, "{\"name\": \"\"}");
    assert_reads_str(p, "name", "");
    assert_ok(p);
}

static void json_str_outlives_body(void **state)
{
    /* The value is the caller's (arena) copy, valid after the body is gone. */
    fx *f = *state;
    params *p = from_json(state, "{\"name\": \"kept\"}");
    const char *s = NULL;
    assert_true(param_str(p, "name", &s));
    json_decref(f->body);
    f->body = NULL;
    assert_string_equal(s, "kept");
}

static void json_null_is_absent(void **state)
{
    params *p = from_json(state,
                          "{\"s\": null, \"l\": null, \"b\": null, \"i\": null, \"t\": null}");
    const char *s = "untouched";
    str_list l = {0};
    bool b = true;
    int64_t i = 42, t = 43;
    assert_false(param_str(p, "s", &s));
    assert_false(param_nonempty_str(p, "s", &s));
    assert_false(param_str_list(p, "l", &l));
    assert_false(param_bool(p, "b", &b));
    assert_false(param_int(p, "i", 0, 100, &i));
    assert_false(param_time(p, "t", &t));
    assert_string_equal(s, "untouched");
    assert_true(b);
    assert_int_equal(i, 42);
    assert_int_equal(t, 43);
    assert_false(param_present(p, "s"));
    assert_false(param_present(p, "l"));
    /* null is not an error, and the keys were asked for: nothing to report */
    assert_ok(p);
}

static void json_str_wrong_types(void **state)
{
    params *p = from_json(state, "{\"a\": 5, \"b\": true, \"c\": [\"x\"], \"d\": {}, \"e\": 1.5}");
    const char *s = NULL;
    for (const char *const *k = KEYS("a", "b", "c", "d", "e"); *k; k++)
        assert_false(param_str(p, *k, &s));
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"a", "string"}, {"a", "number"}, {"b", "boolean"}, {"c", "array"},
                                {"d", "object"}, {"e", "number"}));
}

static void query_str(void **state)
{
    params *p = from_query(state, "name=front&other=x");
    assert_reads_str(p, "name", "front");
    assert_reads_str(p, "other", "x");
    assert_ok(p);
}

static void query_str_repeated_rejected(void **state)
{
    params *p = from_query(state, "name=a&name=b");
    const char *s = NULL;
    assert_false(param_str(p, "name", &s));
    assert_invalid_input(p);
    assert_true(nerrors_of(p, "name") >= 1);
}

static void nonempty_str(void **state)
{
    params *p = from_json(state, "{\"a\": \"x\", \"b\": \"\", \"c\": 3}");
    const char *s = NULL;
    assert_true(param_nonempty_str(p, "a", &s));
    assert_string_equal(s, "x");
    assert_false(param_nonempty_str(p, "b", &s));
    assert_false(param_nonempty_str(p, "c", &s));
    assert_false(param_nonempty_str(p, "absent", &s));
    assert_invalid_input(p);
    assert_null(errors_of(p, "a"));
    assert_one_problem_each(p, KEYS("b", "c"));
    assert_null(errors_of(p, "absent"));
}

static void query_nonempty_str_blank_is_not_given(void **state)
{
    /* "key=" on a scalar is "not given", never a non-empty string. */
    params *p = from_query(state, "name=");
    const char *s = "untouched";
    assert_false(param_nonempty_str(p, "name", &s));
    assert_string_equal(s, "untouched");
}

/* ---- string lists ---- */

static void json_str_list(void **state)
{
    params *p = from_json(state, "{\"ids\": [\"a\", \"b\", \"c\"]}");
    assert_reads_list(p, "ids", KEYS("a", "b", "c"));
    assert_ok(p);
}

/* ids was given, as the empty list, and nothing is wrong. */
static void assert_ids_given_empty(params *p)
{
    assert_reads_list(p, "ids", NO_ITEMS);
    assert_true(param_present(p, "ids"));
    assert_ok(p);
}

static void json_str_list_empty_array(void **state)
{
    assert_ids_given_empty(from_json(state, "{\"ids\": []}"));
}

static void json_str_list_absent(void **state)
{
    params *p = from_json(state, "{}");
    str_list l = {0};
    assert_false(param_str_list(p, "ids", &l));
    assert_ok(p);
}

static void json_str_list_wrong_types(void **state)
{
    params *p = from_json(state, "{\"a\": \"x\", \"b\": [\"x\", 1], \"c\": [null], \"d\": {}}");
    str_list l = {0};
    for (const char *const *k = KEYS("a", "b", "c", "d"); *k; k++)
        assert_false(param_str_list(p, *k, &l));
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"a", "array"}, {"a", "string"}, {"b", "number"}, {"c", "null"},
                                {"d", "object"}));
}

static void json_str_list_empty_item_rejected(void **state)
{
    /* Same rule as the query form ("ids=a&ids=" is rejected): an empty
     * string is never a valid item, whichever way the request was sent. */
    params *p = from_json(state, "{\"ids\": [\"a\", \"\"]}");
    str_list l = {0};
    assert_false(param_str_list(p, "ids", &l));
    assert_invalid_input(p);
    assert_int_equal(nerrors_of(p, "ids"), 1);
}

static char *json_array_of_n(size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char item[32];
        snprintf(item, sizeof item, "id%zu", i);
        json_array_append_new(arr, json_string(item));
    }
    json_t *obj = json_pack("{s:o}", "ids", arr);
    char *text = json_dumps(obj, 0);
    json_decref(obj);
    return text;
}

static void json_str_list_max(void **state)
{
    char *text = json_array_of_n(PARAM_MAX_LIST);
    params *p = from_json(state, text);
    free(text);
    str_list l = {0};
    assert_true(param_str_list(p, "ids", &l));
    assert_int_equal(l.count, PARAM_MAX_LIST);
    assert_string_equal(l.items[PARAM_MAX_LIST - 1], "id999");
    assert_ok(p);
}

static void json_str_list_over_max(void **state)
{
    char *text = json_array_of_n(PARAM_MAX_LIST + 1);
    params *p = from_json(state, text);
    free(text);
    str_list l = {0};
    assert_false(param_str_list(p, "ids", &l));
    assert_invalid_input(p);
    assert_true(error_mentions(p, "ids", "1000"));
}

static void query_str_list_repeated(void **state)
{
    params *p = from_query(state, "ids=a&other=z&ids=b&ids=c");
    const char *s;
    assert_reads_list(p, "ids", KEYS("a", "b", "c"));
    assert_true(param_str(p, "other", &s));
    assert_ok(p);
}

static void query_str_list_single(void **state)
{
    params *p = from_query(state, "ids=only");
    assert_reads_list(p, "ids", KEYS("only"));
    assert_ok(p);
}

static void query_str_list_key_eq_alone_is_empty(void **state)
{
    assert_ids_given_empty(from_query(state, "ids="));
}

static void query_str_list_bare_key_is_empty(void **state)
{
    /* A bare "ids" arrives as value "" too (api.h). */
    params *p = from_query(state, "ids");
    assert_reads_list(p, "ids", NO_ITEMS);
    assert_ok(p);
}

static void query_str_list_absent(void **state)
{
    params *p = from_query(state, "other=1");
    str_list l = {0};
    assert_false(param_str_list(p, "ids", &l));
    assert_false(param_present(p, "ids"));
}

static void query_str_list_empty_items_rejected(void **state)
{
    params *p = from_query(state, "a=x&a=&b=&b=y&c=x&c=&c=z");
    const char *const *keys = KEYS("a", "b", "c");
    str_list l = {0};
    for (const char *const *k = keys; *k; k++)
        assert_false(param_str_list(p, *k, &l));
    assert_invalid_input(p);
    assert_one_problem_each(p, keys);
}

static api_kv *kv_repeated(arena *a, const char *key, size_t n)
{
    api_kv *kv = arena_alloc(a, n * sizeof *kv);
    for (size_t i = 0; i < n; i++)
        kv[i] = (api_kv){key, arena_sprintf(a, "id%zu", i)};
    return kv;
}

static void query_str_list_max(void **state)
{
    api_kv *kv = kv_repeated(fx_arena(state), "ids", PARAM_MAX_LIST);
    params *p = from_kv(state, kv, PARAM_MAX_LIST);
    str_list l = {0};
    assert_true(param_str_list(p, "ids", &l));
    assert_int_equal(l.count, PARAM_MAX_LIST);
    assert_string_equal(l.items[0], "id0");
    assert_string_equal(l.items[PARAM_MAX_LIST - 1], "id999");
    assert_ok(p);
}

static void query_str_list_over_max(void **state)
{
    api_kv *kv = kv_repeated(fx_arena(state), "ids", PARAM_MAX_LIST + 1);
    params *p = from_kv(state, kv, PARAM_MAX_LIST + 1);
    str_list l = {0};
    assert_false(param_str_list(p, "ids", &l));
    assert_invalid_input(p);
    assert_int_equal(nerrors_of(p, "ids"), 1);
    assert_true(error_mentions(p, "ids", "1000"));
}

/* ---- booleans ---- */

/* t reads as true and f as false, and nothing is wrong. */
static void assert_t_true_f_false(params *p)
{
    assert_reads_bool(p, "t", true);
    assert_reads_bool(p, "f", false);
    assert_ok(p);
}

static void json_bool(void **state)
{
    assert_t_true_f_false(from_json(state, "{\"t\": true, \"f\": false}"));
}

static void json_bool_wrong_types(void **state)
{
    params *p = from_json(state, "{\"a\": \"true\", \"b\": 1, \"c\": 0, \"d\": []}");
    bool b = true;
    for (const char *const *k = KEYS("a", "b", "c", "d"); *k; k++)
        assert_false(param_bool(p, *k, &b));
    assert_true(b);
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"a", "boolean"}, {"a", "string"}, {"b", "number"}));
    assert_one_problem_each(p, KEYS("c", "d"));
}

static void query_bool(void **state)
{
    assert_t_true_f_false(from_query(state, "t=true&f=false"));
}

static void query_bool_rejects_other_words(void **state)
{
    params *p = from_query(state, "a=1&b=0&c=yes&d=TRUE&e=False&f=truex&g=t");
    const char *const *keys = KEYS("a", "b", "c", "d", "e", "f", "g");
    for (const char *const *k = keys; *k; k++) {
        bool b = true;
        if (param_bool(p, *k, &b))
            fail_msg("%s accepted as a boolean", *k);
        assert_true(b);
    }
    assert_invalid_input(p);
    assert_one_problem_each(p, keys);
}

/* ---- integers ---- */

static void json_int(void **state)
{
    params *p = from_json(state, "{\"lo\": 1, \"hi\": 10, \"mid\": 5, \"neg\": -3}");
    assert_reads_int(p, "lo", 1, 10, 1);
    assert_reads_int(p, "hi", 1, 10, 10);
    assert_reads_int(p, "mid", 1, 10, 5);
    assert_reads_int(p, "neg", -5, 0, -3);
    assert_ok(p);
}

static void json_int_out_of_range(void **state)
{
    params *p = from_json(state, "{\"below\": 0, \"above\": 11, \"huge\": 1e300}");
    assert_ints_refused(p, KEYS("below", "above", "huge"), 1, 10);
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"below", "1"}, {"below", "10"}));
    assert_one_problem_each(p, KEYS("above", "huge"));
}

static void json_int_non_integers(void **state)
{
    params *p = from_json(state, "{\"frac\": 1.5, \"str\": \"5\", \"bool\": true, \"arr\": [1]}");
    assert_ints_refused(p, KEYS("frac", "str", "bool", "arr"), 0, 10);
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"frac", "integer"}, {"str", "string"}, {"bool", "boolean"},
                                {"arr", "array"}));
}

static void json_int_large_values_exact(void **state)
{
    /* A JSON integer inside [min, max] comes out exactly, however large:
     * 2^53 + 1 is not representable as a double, and INT64_MAX is the max. */
    params *p = from_json(state, "{\"a\": 9007199254740993, \"b\": 9223372036854775807,"
                                 " \"c\": -9223372036854775807}");
    assert_reads_int(p, "a", 0, INT64_MAX, INT64_C(9007199254740993));
    assert_reads_int(p, "b", 0, INT64_MAX, INT64_MAX);
    assert_reads_int(p, "c", -INT64_MAX, 0, -INT64_MAX);
    assert_ok(p);
}

static void query_int(void **state)
{
    params *p = from_query(state, "limit=25&neg=-4&zero=0");
    assert_reads_int(p, "limit", 1, 100, 25);
    assert_reads_int(p, "neg", -10, 10, -4);
    assert_reads_int(p, "zero", 0, 0, 0);
    assert_ok(p);
}

static void query_int_rejects_non_integers(void **state)
{
    params *p = from_query(state, "a=abc&b=1.5&c=5abc&d=--1&e=%2F&f=1%2C000");
    const char *const *keys = KEYS("a", "b", "c", "d", "e", "f");
    assert_ints_refused(p, keys, -1000000, 1000000);
    assert_invalid_input(p);
    assert_one_problem_each(p, keys);
    assert_true(error_mentions(p, "b", "integer"));
}

static void query_int_out_of_range(void **state)
{
    params *p = from_query(state, "a=0&b=101&c=-1");
    assert_ints_refused(p, KEYS("a", "b", "c"), 1, 100);
    assert_invalid_input(p);
    assert_true(error_mentions(p, "b", "100"));
}

static void query_int_overflowing_values_rejected(void **state)
{
    /* Values beyond int64 (and inf/nan, which strtod reads) are rejected
     * without undefined behaviour (UBSan float-cast-overflow under clang). */
    params *p = from_query(state, "a=1e300&b=-1e300&c=inf&d=nan&e=9223372036854775808"
                                  "&f=99999999999999999999999");
    const char *const *keys = KEYS("a", "b", "c", "d", "e", "f");
    assert_ints_refused(p, keys, 1, 100);
    assert_invalid_input(p);
    assert_one_problem_each(p, keys);
}

static void query_int_blank_is_not_given(void **state)
{
    params *p = from_query(state, "limit=");
    int64_t v = 77;
    assert_false(param_int(p, "limit", 1, 100, &v));
    assert_int_equal(v, 77);
    assert_ok(p);
}

/* ---- times ---- */

static void json_time(void **state)
{
    params *p = from_json(state, "{\"at\": \"2026-01-31T12:00:00Z\", "
                                 "\"frac\": \"1970-01-01T00:00:01.5+00:00\"}");
    assert_reads_time(p, "at", INT64_C(1769860800000));
    assert_reads_time(p, "frac", 1500);
    assert_ok(p);
}

static void json_time_rejected(void **state)
{
    params *p = from_json(state, "{\"a\": \"yesterday\", \"b\": \"2026-02-30T00:00:00Z\", "
                                 "\"c\": 1769860800000, \"d\": \"2026-01-31T12:00:00\"}");
    int64_t t = 77;
    for (const char *const *k = KEYS("a", "b", "c", "d"); *k; k++)
        assert_false(param_time(p, *k, &t));
    assert_int_equal(t, 77);
    assert_invalid_input(p);
    assert_mentions(p, MENTIONS({"a", "ISO 8601"}, {"c", "string"}));
    assert_one_problem_each(p, KEYS("b", "d"));
}

static void query_time(void **state)
{
    /* Values arrive percent-decoded from the HTTP layer. */
    static const api_kv kv[] = {{"since", "2026-01-31T13:00:00+01:00"}, {"bad", "2026-01-31"}};
    params *p = from_kv(state, kv, 2);
    int64_t t = 0;
    assert_true(param_time(p, "since", &t));
    assert_int_equal(t, INT64_C(1769860800000));
    assert_false(param_time(p, "bad", &t));
    assert_int_equal(t, INT64_C(1769860800000));
    assert_invalid_input(p);
    assert_int_equal(nerrors_of(p, "bad"), 1);
    assert_null(errors_of(p, "since"));
}

/* ---- presence ---- */

static void json_present(void **state)
{
    params *p = from_json(state, "{\"f\": false, \"z\": 0, \"e\": \"\", \"a\": [], \"n\": null}");
    assert_presence(p, KEYS("f", "z", "e", "a"), KEYS("n", "missing"));
}

static void query_present(void **state)
{
    params *p = from_query(state, "a=1&b=&c");
    assert_presence(p, KEYS("a", "b", "c"), KEYS("d"));
}

/* ---- params_check ---- */

/* A JSON body, and then a query string, each check without a problem. */
static void assert_both_ok(void **state, const char *json, const char *query)
{
    assert_ok(from_json(state, json));
    fx_reset(state);
    assert_ok(from_query(state, query));
}

static void check_nothing_sent(void **state)
{
    assert_both_ok(state, "{}", "");
}

static void check_unknown_json_key(void **state)
{
    params *p = from_json(state, "{\"name\": \"x\", \"colour\": \"red\"}");
    const char *s;
    assert_true(param_str(p, "name", &s));
    assert_invalid_input(p);
    assert_null(errors_of(p, "name"));
    assert_int_equal(nerrors_of(p, "colour"), 1);
    assert_int_equal(json_object_size(params_validation_errors(p)), 1);
    err e = params_check(p);
    assert_non_null(strstr(e.message, "colour"));
}

static void check_unknown_json_key_even_if_null(void **state)
{
    params *p = from_json(state, "{\"colour\": null}");
    assert_invalid_input(p);
    assert_int_equal(nerrors_of(p, "colour"), 1);
}

static void check_unknown_query_key(void **state)
{
    params *p = from_query(state, "limit=5&colour=red");
    int64_t v;
    assert_true(param_int(p, "limit", 1, 10, &v));
    assert_invalid_input(p);
    assert_null(errors_of(p, "limit"));
    assert_int_equal(nerrors_of(p, "colour"), 1);
}

static void check_unknown_repeated_query_key_reported_once(void **state)
{
    params *p = from_query(state, "colour=red&colour=blue&colour=");
    assert_invalid_input(p);
    assert_int_equal(nerrors_of(p, "colour"), 1);
    assert_int_equal(json_object_size(params_validation_errors(p)), 1);
}

static void check_underscore_keys_ignored(void **state)
{
    assert_both_ok(state, "{\"_meta\": 1, \"__x\": {}, \"_\": null}", "_=123&_cache=abc");
}

static void check_collects_every_problem(void **state)
{
    params *p = from_json(state, "{\"name\": 5, \"ids\": \"x\", \"limit\": 0, \"since\": \"soon\","
                                 " \"colour\": \"red\", \"size\": 3, \"_ok\": 1, \"good\": true}");
    const char *s;
    str_list l;
    int64_t v;
    bool b;
    assert_false(param_str(p, "name", &s));
    assert_false(param_str_list(p, "ids", &l));
    assert_false(param_int(p, "limit", 1, 10, &v));
    assert_false(param_time(p, "since", &v));
    assert_true(param_bool(p, "good", &b));
    assert_invalid_input(p);
    assert_one_problem_each(p, KEYS("name", "ids", "limit", "since", "colour", "size"));
    assert_int_equal(json_object_size(params_validation_errors(p)), 6);
    assert_null(errors_of(p, "good"));
    assert_null(errors_of(p, "_ok"));
}

static void check_collects_every_query_problem(void **state)
{
    params *p = from_query(state, "limit=x&flag=maybe&ids=a&ids=&extra=1");
    int64_t v;
    bool b;
    str_list l;
    assert_false(param_int(p, "limit", 1, 10, &v));
    assert_false(param_bool(p, "flag", &b));
    assert_false(param_str_list(p, "ids", &l));
    assert_invalid_input(p);
    assert_one_problem_each(p, KEYS("limit", "flag", "ids", "extra"));
    assert_int_equal(json_object_size(params_validation_errors(p)), 4);
}

static void check_validation_errors_shape(void **state)
{
    params *p = from_json(state, "{\"name\": 5}");
    const char *s;
    assert_false(param_str(p, "name", &s));
    assert_invalid_input(p);
    /* exactly {"name": {"_errors": ["..."]}} */
    json_t *all = params_validation_errors(p);
    assert_int_equal(json_object_size(all), 1);
    json_t *entry = json_object_get(all, "name");
    assert_true(json_is_object(entry));
    assert_int_equal(json_object_size(entry), 1);
    json_t *list = json_object_get(entry, "_errors");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 1);
    assert_true(json_is_string(json_array_get(list, 0)));
}

static void check_handler_rejections(void **state)
{
    params *p = from_json(state, "{\"name\": \"x\"}");
    const char *s;
    assert_true(param_str(p, "name", &s));
    param_reject(p, "name", "already taken");
    param_reject(p, "name", "too short");
    param_reject(p, "other", "needs name");
    assert_invalid_input(p);
    json_t *l = errors_of(p, "name");
    assert_int_equal(json_array_size(l), 2);
    assert_string_equal(json_string_value(json_array_get(l, 0)), "already taken");
    assert_string_equal(json_string_value(json_array_get(l, 1)), "too short");
    assert_true(error_mentions(p, "other", "needs name"));
    err e = params_check(p);
    assert_non_null(strstr(e.message, "name"));
}

static void check_is_repeatable(void **state)
{
    /* api_handle checks again after a successful handler: still fine. */
    params *p = from_json(state, "{\"name\": \"x\"}");
    const char *s;
    assert_true(param_str(p, "name", &s));
    assert_ok(p);
    assert_ok(p);
    fx_reset(state);
    p = from_query(state, "name=x");
    assert_true(param_str(p, "name", &s));
    assert_ok(p);
    assert_ok(p);
}

static void free_null_and_clean(void **state)
{
    (void)state;
    params_free(NULL);
    arena a;
    arena_init(&a);
    params *p = params_from_query(&a, NULL, 0);
    assert_false(param_present(p, "x"));
    assert_true(!err_failed(params_check(p)));
    params_free(p);
    arena_free(&a);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(json_str_present),
        T(json_str_absent),
        T(json_str_empty_is_a_string),
        T(json_str_outlives_body),
        T(json_null_is_absent),
        T(json_str_wrong_types),
        T(query_str),
        T(query_str_repeated_rejected),
        T(nonempty_str),
        T(query_nonempty_str_blank_is_not_given),
        T(json_str_list),
        T(json_str_list_empty_array),
        T(json_str_list_absent),
        T(json_str_list_wrong_types),
        T(json_str_list_empty_item_rejected),
        T(json_str_list_max),
        T(json_str_list_over_max),
        T(query_str_list_repeated),
        T(query_str_list_single),
        T(query_str_list_key_eq_alone_is_empty),
        T(query_str_list_bare_key_is_empty),
        T(query_str_list_absent),
        T(query_str_list_empty_items_rejected),
        T(query_str_list_max),
        T(query_str_list_over_max),
        T(json_bool),
        T(json_bool_wrong_types),
        T(query_bool),
        T(query_bool_rejects_other_words),
        T(json_int),
        T(json_int_out_of_range),
        T(json_int_non_integers),
        T(json_int_large_values_exact),
        T(query_int),
        T(query_int_rejects_non_integers),
        T(query_int_out_of_range),
        T(query_int_overflowing_values_rejected),
        T(query_int_blank_is_not_given),
        T(json_time),
        T(json_time_rejected),
        T(query_time),
        T(json_present),
        T(query_present),
        T(check_nothing_sent),
        T(check_unknown_json_key),
        T(check_unknown_json_key_even_if_null),
        T(check_unknown_query_key),
        T(check_unknown_repeated_query_key_reported_once),
        T(check_underscore_keys_ignored),
        T(check_collects_every_problem),
        T(check_collects_every_query_problem),
        T(check_validation_errors_shape),
        T(check_handler_rejections),
        T(check_is_repeatable),
        cmocka_unit_test(free_null_and_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
