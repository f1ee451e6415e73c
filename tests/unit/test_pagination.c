/* Unit tests for api/pagination: canonical filters, cursors bound to their
 * filters and scope, reading limit/page_cursor from parameters, and the
 * pagination object with its next_page_url. */
#include "unit_fixtures.h"

#include "api/pagination.h"

static const char SCOPE[] = "ws_1||";
static const char OTHER_SCOPE[] = "ws_2||";

/* Filters "device_ids=a&device_ids=b&manufacturer=august". */
static void some_filters(page_filters *f, arena *a)
{
    static const char *ids[] = {"a", "b"};
    str_list l = {ids, 2};
    page_filters_init(f, a);
    page_filters_add_list(f, "device_ids", &l);
    page_filters_add(f, "manufacturer", "august");
}

static char *b64url(arena *a, const char *raw) { return b64url_encode(a, raw, strlen(raw)); }

static char *unb64url(arena *a, const char *text)
{
    size_t len = strlen(text), rlen = 0;
    char *raw = arena_alloc(a, len + 1);
    if (sodium_base642bin((unsigned char *)raw, len, text, len, NULL, &rlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return NULL;
    raw[rlen] = '\0';
    return raw;
}

/* A cursor like a genuine one for (f, scope) but with another position text. */
static char *cursor_with_position(arena *a, const page_filters *f, const char *scope,
                                  const char *position)
{
    char *raw = unb64url(a, pagination_cursor_encode(a, f, scope, 1));
    assert_non_null(raw);
    char *dot = strrchr(raw, '.');
    assert_non_null(dot);
    dot[1] = '\0';
    return b64url(a, arena_sprintf(a, "%s%s", raw, position));
}

/* ---- canonical filters ---- */

static void filters_empty(void **state)
{
    arena *a = *state;
    page_filters f;
    page_filters_init(&f, a);
    assert_string_equal(f.query, "");
}

static void filters_in_order(void **state)
{
    arena *a = *state;
    page_filters f;
    page_filters_init(&f, a);
    page_filters_add(&f, "b", "2");
    page_filters_add(&f, "a", "1");
    assert_string_equal(f.query, "b=2&a=1");
}

/* The canonical query of the one filter key=value. */
static const char *one_filter(arena *a, const char *key, const char *value)
{
    page_filters f;
    page_filters_init(&f, a);
    page_filters_add(&f, key, value);
    return f.query;
}

static void filters_percent_encoded(void **state)
{
    arena *a = *state;
    assert_string_equal(one_filter(a, "m", "a b&c=d+e/f?g#h%i"),
                        "m=a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25i");
    assert_string_equal(one_filter(a, "u", "caf\xc3\xa9"), "u=caf%C3%A9");
    assert_string_equal(one_filter(a, "k", "AZaz09-_.~"), "k=AZaz09-_.~");
    assert_string_equal(one_filter(a, "k", ""), "k=");
}

static void filters_lists_repeated(void **state)
{
    arena *a = *state;
    static const char *ids[] = {"x", "y z", "x"};
    str_list l = {ids, 3};
    page_filters f;
    page_filters_init(&f, a);
    page_filters_add_list(&f, "ids", &l);
    page_filters_add(&f, "type", "lock");
    assert_string_equal(f.query, "ids=x&ids=y%20z&ids=x&type=lock");
}

static void filters_empty_list(void **state)
{
    arena *a = *state;
    str_list none = {NULL, 0};
    page_filters f;
    page_filters_init(&f, a);
    page_filters_add_list(&f, "ids", &none);
    assert_string_equal(f.query, "ids=");
    page_filters_add(&f, "type", "lock");
    assert_string_equal(f.query, "ids=&type=lock");
}

/* ---- cursors ---- */

static void cursor_round_trip(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    const int64_t positions[] = {0, 1, 42, 1000000007, INT64_C(1) << 53, INT64_MAX};
    for (size_t i = 0; i < COUNT_OF(positions); i++) {
        char *c = pagination_cursor_encode(a, &f, SCOPE, positions[i]);
        assert_non_null(c);
        assert_true(strlen(c) <= 200);
        int64_t after = -1;
        assert_true(pagination_cursor_decode(a, &f, SCOPE, c, &after));
        assert_int_equal(after, positions[i]);
    }
}

static void cursor_round_trip_no_filters(void **state)
{
    arena *a = *state;
    page_filters f;
    page_filters_init(&f, a);
    char *c = pagination_cursor_encode(a, &f, "", 7);
    int64_t after = -1;
    assert_true(pagination_cursor_decode(a, &f, "", c, &after));
    assert_int_equal(after, 7);
}

static void cursor_is_url_safe(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    for (int64_t pos = 0; pos < 300; pos += 7) {
        const char *c = pagination_cursor_encode(a, &f, SCOPE, pos);
        for (const char *ch = c; *ch; ch++)
            if (!((*ch >= 'A' && *ch <= 'Z') || (*ch >= 'a' && *ch <= 'z') ||
                  (*ch >= '0' && *ch <= '9') || *ch == '-' || *ch == '_'))
                fail_msg("'%c' in cursor %s", *ch, c);
    }
}

static void cursor_rejects_other_filters(void **state)
{
    arena *a = *state;
    page_filters f, g;
    some_filters(&f, a);
    char *c = pagination_cursor_encode(a, &f, SCOPE, 10);
    int64_t after = 99;

    page_filters_init(&g, a); /* no filters */
    assert_false(pagination_cursor_decode(a, &g, SCOPE, c, &after));

    some_filters(&g, a); /* one more filter */
    page_filters_add(&g, "device_type", "august_lock");
    assert_false(pagination_cursor_decode(a, &g, SCOPE, c, &after));

    page_filters_init(&g, a); /* another value */
    static const char *ids[] = {"a", "c"};
    str_list l = {ids, 2};
    page_filters_add_list(&g, "device_ids", &l);
    page_filters_add(&g, "manufacturer", "august");
    assert_false(pagination_cursor_decode(a, &g, SCOPE, c, &after));

    page_filters_init(&g, a); /* an empty list is not "no filter" */
    str_list none = {NULL, 0};
    page_filters_add_list(&g, "device_ids", &none);
    char *c_empty = pagination_cursor_encode(a, &g, SCOPE, 10);
    page_filters_init(&g, a);
    assert_false(pagination_cursor_decode(a, &g, SCOPE, c_empty, &after));
    assert_int_equal(after, 99);
}

static void cursor_rejects_other_scope(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    char *c = pagination_cursor_encode(a, &f, SCOPE, 10);
    int64_t after = 99;
    assert_false(pagination_cursor_decode(a, &f, OTHER_SCOPE, c, &after));
    assert_false(pagination_cursor_decode(a, &f, "", c, &after));
    assert_false(pagination_cursor_decode(a, &f, "ws_1||user-1", c, &after));
    assert_int_equal(after, 99);
}

static void cursor_scope_and_filters_do_not_run_together(void **state)
{
    /* scope "ab" with filters "=1" is not scope "a" with filters "b=1" */
    arena *a = *state;
    page_filters f, g;
    page_filters_init(&f, a);
    page_filters_add(&f, "b", "1");
    page_filters_init(&g, a);
    page_filters_add(&g, "", "1");
    char *c = pagination_cursor_encode(a, &f, "a", 3);
    int64_t after = 99;
    assert_false(pagination_cursor_decode(a, &g, "ab", c, &after));
    assert_int_equal(after, 99);
}

static void cursor_rejects_tampering(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    char *c = pagination_cursor_encode(a, &f, SCOPE, 10);
    /* the first 44 characters carry the 32-byte fingerprint and the dot */
    for (size_t i = 0; i < 44; i++) {
        char *t = arena_strdup(a, c);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        int64_t after = 99;
        if (pagination_cursor_decode(a, &f, SCOPE, t, &after))
            fail_msg("tampered cursor %s accepted (%lld)", t, (long long)after);
    }
    int64_t after = 99;
    assert_false(pagination_cursor_decode(a, &f, SCOPE, arena_strndup(a, c, 40), &after));
    assert_false(pagination_cursor_decode(a, &f, SCOPE, arena_strndup(a, c, strlen(c) - 2), &after));
    assert_int_equal(after, 99);
}

static void cursor_rejects_garbage(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    const char *garbage[] = {"", "x", "abc", "not a cursor", "%%%", "====", "10", "-1",
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             "!@#$%^&*()", "cursor+with/std=base64"};
    for (size_t i = 0; i < COUNT_OF(garbage); i++) {
        int64_t after = 99;
        if (pagination_cursor_decode(a, &f, SCOPE, garbage[i], &after))
            fail_msg("garbage cursor '%s' accepted (%lld)", garbage[i], (long long)after);
        assert_int_equal(after, 99);
    }
    /* base64url of text that is not "<fingerprint>.<n>" */
    const char *raws[] = {"hello", "0123456789abcdef0123456789abcdef", ".5",
                          "0123456789abcdef0123456789abcdef.5"};
    for (size_t i = 0; i < COUNT_OF(raws); i++) {
        int64_t after = 99;
        assert_false(pagination_cursor_decode(a, &f, SCOPE, b64url(a, raws[i]), &after));
    }
}

static void cursor_rejects_too_long(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    /* a genuine fingerprint with a position padded far past any real one */
    char zeros[200];
    memset(zeros, '0', sizeof zeros - 2);
    zeros[sizeof zeros - 2] = '5';
    zeros[sizeof zeros - 1] = '\0';
    char *c = cursor_with_position(a, &f, SCOPE, zeros);
    assert_true(strlen(c) > 200);
    int64_t after = 99;
    assert_false(pagination_cursor_decode(a, &f, SCOPE, c, &after));
    /* and plain long text */
    char *lots = arena_alloc(a, 100001);
    memset(lots, 'A', 100000);
    lots[100000] = '\0';
    assert_false(pagination_cursor_decode(a, &f, SCOPE, lots, &after));
    assert_int_equal(after, 99);
}

static void cursor_rejects_negative_position(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    int64_t after = 99;
    assert_false(pagination_cursor_decode(a, &f, SCOPE, pagination_cursor_encode(a, &f, SCOPE, -1),
                                          &after));
    assert_false(pagination_cursor_decode(a, &f, SCOPE,
                                          pagination_cursor_encode(a, &f, SCOPE, INT64_MIN), &after));
    assert_false(pagination_cursor_decode(a, &f, SCOPE, cursor_with_position(a, &f, SCOPE, "-5"),
                                          &after));
    assert_int_equal(after, 99);
}

/* Each of the n position texts, in a cursor otherwise genuine for (f, SCOPE),
 * is refused and leaves the position alone. */
static void assert_positions_refused(arena *a, const page_filters *f, const char *const *bad,
                                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t after = 99;
        if (pagination_cursor_decode(a, f, SCOPE, cursor_with_position(a, f, SCOPE, bad[i]), &after))
            fail_msg("position '%s' accepted as %lld", bad[i], (long long)after);
        assert_int_equal(after, 99);
    }
}

static void cursor_rejects_bad_position_text(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    const char *bad[] = {"", "x", "5x", "5 ", "1.5", "0x10", "5.", ".5"};
    assert_positions_refused(a, &f, bad, COUNT_OF(bad));
    /* the helper itself makes acceptable cursors */
    int64_t after = 99;
    assert_true(pagination_cursor_decode(a, &f, SCOPE, cursor_with_position(a, &f, SCOPE, "12"),
                                         &after));
    assert_int_equal(after, 12);
}

static void cursor_rejects_position_overflow(void **state)
{
    /* A position beyond int64 is malformed, not silently INT64_MAX. */
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    const char *bad[] = {"9223372036854775808", "99999999999999999999999"};
    assert_positions_refused(a, &f, bad, COUNT_OF(bad));
}

/* ---- pagination_read ---- */

typedef struct read_result {
    page_request req;
    err e;
} read_result;

static read_result read_query(arena *a, const page_filters *f, const char *scope, const api_kv *kv,
                              size_t n, json_t **errors_out)
{
    read_result r;
    params *p = params_from_query(a, kv, n);
    pagination_read(p, f, scope, 25, 100, &r.req);
    r.e = params_check(p);
    json_t *errs = params_validation_errors(p);
    *errors_out = errs ? json_deep_copy(errs) : NULL;
    params_free(p);
    return r;
}

/* r was read without a problem, with this limit and position. */
static void assert_read_ok(read_result r, const json_t *errs, int64_t limit, int64_t after)
{
    assert_false(err_failed(r.e));
    assert_null(errs);
    assert_int_equal(r.req.limit, limit);
    assert_int_equal(r.req.after, after);
}

/* pagination_read of p for (f, SCOPE) succeeds with this limit and
 * position; frees p. */
static void assert_reads_page(params *p, const page_filters *f, int64_t limit, int64_t after)
{
    page_request req;
    pagination_read(p, f, SCOPE, 25, 100, &req);
    assert_false(err_failed(params_check(p)));
    assert_int_equal(req.limit, limit);
    assert_int_equal(req.after, after);
    params_free(p);
}

static void read_defaults(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    json_t *errs;
    read_result r = read_query(a, &f, SCOPE, NULL, 0, &errs);
    assert_read_ok(r, errs, 25, 0);
}

static void read_limit_bounds(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    json_t *errs;
    const struct {
        const char *value;
        bool ok;
        int64_t limit;
    } cases[] = {{"1", true, 1},     {"100", true, 100}, {"37", true, 37},
                 {"0", false, 25},   {"101", false, 25}, {"-1", false, 25},
                 {"abc", false, 25}, {"2.5", false, 25}, {"", true, 25}};
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        api_kv kv[] = {{"limit", cases[i].value}};
        read_result r = read_query(a, &f, SCOPE, kv, 1, &errs);
        if (err_failed(r.e) == cases[i].ok)
            fail_msg("limit=%s: %s", cases[i].value, cases[i].ok ? "rejected" : "accepted");
        if (cases[i].ok) {
            assert_int_equal(r.req.limit, cases[i].limit);
            assert_null(errs);
        } else {
            assert_string_equal(r.e.type, "invalid_input");
            assert_non_null(json_object_get(errs, "limit"));
            assert_int_equal(json_object_size(errs), 1);
        }
        json_decref(errs);
    }
}

static void read_cursor(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    json_t *errs;
    api_kv kv[] = {{"limit", "5"}, {"page_cursor", pagination_cursor_encode(a, &f, SCOPE, 1234)}};
    read_result r = read_query(a, &f, SCOPE, kv, 2, &errs);
    assert_read_ok(r, errs, 5, 1234);
}

static void read_bad_cursor(void **state)
{
    arena *a = *state;
    page_filters f, g;
    some_filters(&f, a);
    page_filters_init(&g, a);
    page_filters_add(&g, "manufacturer", "other");
    const char *cursors[] = {
        "garbage",
        pagination_cursor_encode(a, &g, SCOPE, 1234),       /* other filters */
        pagination_cursor_encode(a, &f, OTHER_SCOPE, 1234), /* other scope */
    };
    for (size_t i = 0; i < COUNT_OF(cursors); i++) {
        json_t *errs;
        api_kv kv[] = {{"page_cursor", cursors[i]}};
        read_result r = read_query(a, &f, SCOPE, kv, 1, &errs);
        assert_true(err_failed(r.e));
        assert_int_equal(r.e.kind, ERR_BAD_REQUEST);
        assert_string_equal(r.e.type, "invalid_input");
        json_t *pc = json_object_get(errs, "page_cursor");
        assert_non_null(pc);
        assert_true(json_array_size(json_object_get(pc, "_errors")) >= 1);
        assert_int_equal(r.req.after, 0);
        json_decref(errs);
    }
}

static void read_bad_limit_and_cursor_both_reported(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    json_t *errs;
    api_kv kv[] = {{"limit", "0"}, {"page_cursor", "nope"}};
    read_result r = read_query(a, &f, SCOPE, kv, 2, &errs);
    assert_true(err_failed(r.e));
    assert_non_null(json_object_get(errs, "limit"));
    assert_non_null(json_object_get(errs, "page_cursor"));
    json_decref(errs);
}

static void read_from_json_body(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    json_t *body = json_pack("{s:i,s:s}", "limit", 3, "page_cursor",
                             pagination_cursor_encode(a, &f, SCOPE, 77));
    assert_reads_page(params_from_json(a, body), &f, 3, 77);
    json_decref(body);
}

/* ---- pagination_json ---- */

static void json_without_next(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    page_request req = {25, 0};
    json_t *j = pagination_json(a, &f, SCOPE, "http://localhost:3020/devices/list", &req, false, 0);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 3);
    assert_true(json_is_false(json_object_get(j, "has_next_page")));
    assert_true(json_is_null(json_object_get(j, "next_page_cursor")));
    assert_true(json_is_null(json_object_get(j, "next_page_url")));
    json_decref(j);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Splits and percent-decodes the query of url into kv pairs. */
static size_t parse_url_query(arena *a, const char *url, api_kv *kv, size_t max)
{
    const char *q = strchr(url, '?');
    assert_non_null(q);
    char *copy = arena_strdup(a, q + 1), *save = NULL;
    size_t n = 0;
    for (char *pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        assert_true(n < max);
        char *eq = strchr(pair, '=');
        assert_non_null(eq);
        *eq = '\0';
        char *v = eq + 1, *o = v;
        for (char *c = v; *c; c++) {
            if (*c == '%') {
                int hi = hexval(c[1]), lo = hi < 0 ? -1 : hexval(c[2]);
                assert_true(hi >= 0 && lo >= 0);
                *o++ = (char)(hi * 16 + lo);
                c += 2;
            } else {
                *o++ = *c;
            }
        }
        *o = '\0';
        kv[n++] = (api_kv){pair, v};
    }
    return n;
}

static void json_with_next(void **state)
{
    arena *a = *state;
    page_filters f;
    some_filters(&f, a);
    page_request req = {7, 0};
    const char *base = "https://api.example.com/devices/list";
    json_t *j = pagination_json(a, &f, SCOPE, base, &req, true, 4242);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 3);
    assert_true(json_is_true(json_object_get(j, "has_next_page")));
    const char *cursor = json_string_value(json_object_get(j, "next_page_cursor"));
    const char *url = json_string_value(json_object_get(j, "next_page_url"));
    assert_non_null(cursor);
    assert_non_null(url);

    int64_t after = -1;
    assert_true(pagination_cursor_decode(a, &f, SCOPE, cursor, &after));
    assert_int_equal(after, 4242);

    assert_int_equal(strncmp(url, base, strlen(base)), 0);
    assert_int_equal(url[strlen(base)], '?');
    assert_non_null(strstr(url, "device_ids=a&device_ids=b"));
    assert_non_null(strstr(url, "manufacturer=august"));
    assert_non_null(strstr(url, "limit=7"));
    assert_non_null(strstr(url, arena_sprintf(a, "page_cursor=%s", cursor)));
    json_decref(j);
}

static void json_with_next_no_filters(void **state)
{
    arena *a = *state;
    page_filters f;
    page_filters_init(&f, a);
    page_request req = {25, 0};
    json_t *j = pagination_json(a, &f, SCOPE, "http://h/devices/list", &req, true, 9);
    const char *cursor = json_string_value(json_object_get(j, "next_page_cursor"));
    const char *url = json_string_value(json_object_get(j, "next_page_url"));
    assert_non_null(cursor);
    assert_string_equal(url, arena_sprintf(a, "http://h/devices/list?limit=25&page_cursor=%s", cursor));
    json_decref(j);
}

static void next_page_url_replays(void **state)
{
    /* Following next_page_url (its query decoded as the HTTP layer would)
     * gives the same filters and the next page. */
    arena *a = *state;
    page_filters f;
    page_filters_init(&f, a);
    static const char *ids[] = {"id 1", "id&2", "ïd=3"};
    str_list l = {ids, 3};
    page_filters_add_list(&f, "device_ids", &l);
    page_filters_add(&f, "manufacturer", "a+b");
    page_request req = {10, 0};
    json_t *j = pagination_json(a, &f, SCOPE, "http://h/devices/list", &req, true, 555);
    const char *url = json_string_value(json_object_get(j, "next_page_url"));
    api_kv kv[16];
    size_t n = parse_url_query(a, url, kv, 16);

    params *p = params_from_query(a, kv, n);
    str_list got;
    const char *manu;
    assert_true(param_str_list(p, "device_ids", &got));
    assert_int_equal(got.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(got.items[i], ids[i]);
    assert_true(param_str(p, "manufacturer", &manu));
    assert_string_equal(manu, "a+b");
    page_filters g;
    page_filters_init(&g, a);
    page_filters_add_list(&g, "device_ids", &got);
    page_filters_add(&g, "manufacturer", manu);
    assert_string_equal(g.query, f.query);
    assert_reads_page(p, &g, 10, 555);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ARENA_TEST(filters_empty),
        ARENA_TEST(filters_in_order),
        ARENA_TEST(filters_percent_encoded),
        ARENA_TEST(filters_lists_repeated),
        ARENA_TEST(filters_empty_list),
        ARENA_TEST(cursor_round_trip),
        ARENA_TEST(cursor_round_trip_no_filters),
        ARENA_TEST(cursor_is_url_safe),
        ARENA_TEST(cursor_rejects_other_filters),
        ARENA_TEST(cursor_rejects_other_scope),
        ARENA_TEST(cursor_scope_and_filters_do_not_run_together),
        ARENA_TEST(cursor_rejects_tampering),
        ARENA_TEST(cursor_rejects_garbage),
        ARENA_TEST(cursor_rejects_too_long),
        ARENA_TEST(cursor_rejects_negative_position),
        ARENA_TEST(cursor_rejects_bad_position_text),
        ARENA_TEST(cursor_rejects_position_overflow),
        ARENA_TEST(read_defaults),
        ARENA_TEST(read_limit_bounds),
        ARENA_TEST(read_cursor),
        ARENA_TEST(read_bad_cursor),
        ARENA_TEST(read_bad_limit_and_cursor_both_reported),
        ARENA_TEST(read_from_json_body),
        ARENA_TEST(json_without_next),
        ARENA_TEST(json_with_next),
        ARENA_TEST(json_with_next_no_filters),
        ARENA_TEST(next_page_url_replays),
    };
    return cmocka_run_group_tests(tests, sodium_group_setup, NULL);
}
