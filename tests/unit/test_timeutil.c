/* Unit tests for core/timeutil: milliseconds since the epoch to and from
 * ISO 8601 / RFC 3339 text, and the clock. */
#include <time.h>

#include "unit_fixtures.h"

#include "core/timeutil.h"

#define S(secs) ((int64_t)(secs) * 1000)

static void assert_formats(int64_t ms, const char *want)
{
    char out[ISO8601_LEN];
    memset(out, '#', sizeof out);
    time_format_iso8601(ms, out);
    if (strcmp(out, want) != 0)
        fail_msg("%lld formatted as %s, want %s", (long long)ms, out, want);
}

static void assert_parses(const char *s, int64_t want)
{
    int64_t got = INT64_MIN;
    if (!time_parse_iso8601(s, &got))
        fail_msg("'%s' rejected", s);
    if (got != want)
        fail_msg("'%s' parsed as %lld, want %lld", s, (long long)got, (long long)want);
}

static void assert_rejects(const char *s)
{
    int64_t got = 12345;
    if (time_parse_iso8601(s, &got))
        fail_msg("'%s' accepted as %lld", s ? s : "(null)", (long long)got);
    assert_int_equal(got, 12345); /* untouched on failure */
}

/* ---- formatting ---- */

static void format_epoch(void **state)
{
    (void)state;
    assert_formats(0, "1970-01-01T00:00:00.000Z");
}

static void format_milliseconds(void **state)
{
    (void)state;
    assert_formats(1, "1970-01-01T00:00:00.001Z");
    assert_formats(999, "1970-01-01T00:00:00.999Z");
    assert_formats(1000, "1970-01-01T00:00:01.000Z");
    assert_formats(1234, "1970-01-01T00:00:01.234Z");
    assert_formats(S(1795370095) + 123, "2026-11-22T17:54:55.123Z");
    assert_formats(S(1795370095) + 50, "2026-11-22T17:54:55.050Z");
}

static void format_negative(void **state)
{
    (void)state;
    assert_formats(-1, "1969-12-31T23:59:59.999Z");
    assert_formats(-999, "1969-12-31T23:59:59.001Z");
    assert_formats(-1000, "1969-12-31T23:59:59.000Z");
    assert_formats(-1001, "1969-12-31T23:59:58.999Z");
    assert_formats(S(-14182940), "1969-07-20T20:17:40.000Z");
    assert_formats(S(-2203891200), "1900-03-01T00:00:00.000Z");
    assert_formats(S(-62135596800), "0001-01-01T00:00:00.000Z");
}

static void format_leap_years(void **state)
{
    (void)state;
    assert_formats(S(1709164800), "2024-02-29T00:00:00.000Z");
    assert_formats(S(1709164800) - 1, "2024-02-28T23:59:59.999Z");
    assert_formats(S(1709164800 + 86400), "2024-03-01T00:00:00.000Z");
    assert_formats(S(951782400), "2000-02-29T00:00:00.000Z");             /* divisible by 400 */
    assert_formats(S(4107542400), "2100-03-01T00:00:00.000Z");            /* 2100: not leap */
    assert_formats(S(4107542400) - 1, "2100-02-28T23:59:59.999Z");
    assert_formats(S(2147483648), "2038-01-19T03:14:08.000Z");            /* past 32-bit time_t */
    assert_formats(S(253402300799) + 999, "9999-12-31T23:59:59.999Z");
}

static void format_fits_extremes(void **state)
{
    /* ISO8601_LEN has room for any int64: no overflow, NUL-terminated. */
    (void)state;
    const int64_t v[] = {INT64_MAX, INT64_MIN, INT64_MAX / 1000 * 1000, -(INT64_C(1) << 52)};
    for (size_t i = 0; i < COUNT_OF(v); i++) {
        char out[ISO8601_LEN + 8];
        memset(out, '#', sizeof out);
        time_format_iso8601(v[i], out);
        assert_true(memchr(out, '\0', ISO8601_LEN) != NULL);
        for (size_t j = ISO8601_LEN; j < sizeof out; j++)
            assert_int_equal(out[j], '#');
    }
}

/* ---- parsing ---- */

static void parse_utc(void **state)
{
    (void)state;
    assert_parses("1970-01-01T00:00:00Z", 0);
    assert_parses("1970-01-01T00:00:00z", 0);
    assert_parses("2026-01-31T12:00:00Z", S(1769860800));
    assert_parses("2026-01-31T12:00:00.000Z", S(1769860800));
    assert_parses("2026-11-22T17:54:55.123Z", S(1795370095) + 123);
    assert_parses("1969-12-31T23:59:59.999Z", -1);
    assert_parses("1900-03-01T00:00:00Z", S(-2203891200));
    assert_parses("9999-12-31T23:59:59.999Z", S(253402300799) + 999);
}

static void parse_lowercase_t_and_space(void **state)
{
    /* RFC 3339 5.6: 'T' and 'Z' may be lowercase. */
    (void)state;
    assert_parses("2026-01-31t12:00:00Z", S(1769860800));
    assert_parses("2026-01-31t12:00:00z", S(1769860800));
}

static void parse_offsets(void **state)
{
    (void)state;
    assert_parses("2026-01-31T12:00:00+00:00", S(1769860800));
    assert_parses("2026-01-31T12:00:00-00:00", S(1769860800));
    assert_parses("2026-01-31T13:00:00+01:00", S(1769860800));
    assert_parses("2026-01-31T06:30:00-05:30", S(1769860800));
    assert_parses("2026-01-31T23:45:00+11:45", S(1769860800));
    assert_parses("2026-02-01T11:59:00+23:59", S(1769860800));
    /* crossing a day and a year */
    assert_parses("2026-01-01T00:30:00+01:00", S(1767223800));
    assert_parses("2025-12-31T23:30:00-01:00", S(1767227400));
    assert_parses("2026-01-31T13:00:00.250+01:00", S(1769860800) + 250);
}

static void parse_fractions(void **state)
{
    (void)state;
    const int64_t base = S(1769860800);
    assert_parses("2026-01-31T12:00:00.1Z", base + 100);
    assert_parses("2026-01-31T12:00:00.12Z", base + 120);
    assert_parses("2026-01-31T12:00:00.123Z", base + 123);
    assert_parses("2026-01-31T12:00:00.1239Z", base + 123);
    assert_parses("2026-01-31T12:00:00.12399Z", base + 123);
    assert_parses("2026-01-31T12:00:00.999999Z", base + 999);
    assert_parses("2026-01-31T12:00:00.0000001Z", base);
    assert_parses("2026-01-31T12:00:00.99999999Z", base + 999);
    assert_parses("2026-01-31T12:00:00.123456789Z", base + 123);
    assert_parses("2026-01-31T12:00:00.000000000Z", base);
    assert_parses("2026-01-31T12:00:00.5+01:00", base - S(3600) + 500);
    /* before the epoch the fraction still counts forward from the second */
    assert_parses("1969-12-31T23:59:59.5Z", -500);
}

static void parse_leap_days(void **state)
{
    (void)state;
    assert_parses("2024-02-29T00:00:00Z", S(1709164800));
    assert_parses("2000-02-29T00:00:00Z", S(951782400));
    assert_rejects("2025-02-29T00:00:00Z");
    assert_rejects("2100-02-29T00:00:00Z");
    assert_rejects("1900-02-29T00:00:00Z");
    assert_rejects("2024-02-30T00:00:00Z");
}

static void parse_rejects_missing_zone(void **state)
{
    (void)state;
    assert_rejects("2026-01-31T12:00:00");
    assert_rejects("2026-01-31T12:00:00.123");
    assert_rejects("2026-01-31");
    assert_rejects("2026-01-31T12:00");
    assert_rejects("2026-01-31T12:00Z");
}

static void parse_rejects_bad_dates(void **state)
{
    (void)state;
    assert_rejects("2026-02-30T12:00:00Z");
    assert_rejects("2026-04-31T12:00:00Z");
    assert_rejects("2026-06-31T12:00:00Z");
    assert_rejects("2026-13-01T12:00:00Z");
    assert_rejects("2026-00-10T12:00:00Z");
    assert_rejects("2026-01-00T12:00:00Z");
    assert_rejects("2026-01-32T12:00:00Z");
    assert_rejects("2026-99-99T12:00:00Z");
}

static void parse_rejects_bad_times(void **state)
{
    (void)state;
    assert_rejects("2026-01-31T24:00:00Z");
    assert_rejects("2026-01-31T12:60:00Z");
    assert_rejects("2026-01-31T12:00:61Z");
    assert_rejects("2026-01-31T12:00:00+24:00");
    assert_rejects("2026-01-31T12:00:00+01:60");
    assert_rejects("2026-01-31T12:00:00+01");
    assert_rejects("2026-01-31T12:00:00+0100");
    assert_rejects("2026-01-31T12:00:00+1:00");
    assert_rejects("2026-01-31T12:00:00 +01:00");
}

static void parse_rejects_garbage(void **state)
{
    (void)state;
    assert_rejects(NULL);
    assert_rejects("");
    assert_rejects("now");
    assert_rejects("yesterday");
    assert_rejects("1769860800000");
    assert_rejects("2026");
    assert_rejects("2026-1-31T12:00:00Z");
    assert_rejects("2026-01-31T1:00:00Z");
    assert_rejects("26-01-31T12:00:00Z");
    assert_rejects("2026/01/31T12:00:00Z");
    assert_rejects("2026-01-31X12:00:00Z");
    assert_rejects("2026-01-31T12.00.00Z");
    assert_rejects("-026-01-31T12:00:00Z");
    assert_rejects("+2026-01-31T12:00:00Z");
    assert_rejects("２０２６-01-31T12:00:00Z");
    assert_rejects(" 2026-01-31T12:00:00Z");
}

static void parse_rejects_trailing_junk(void **state)
{
    (void)state;
    assert_rejects("2026-01-31T12:00:00Zjunk");
    assert_rejects("2026-01-31T12:00:00Z ");
    assert_rejects("2026-01-31T12:00:00ZZ");
    assert_rejects("2026-01-31T12:00:00+01:00Z");
    assert_rejects("2026-01-31T12:00:00+01:00:00");
    assert_rejects("2026-01-31T12:00:00.123Z\n");
    assert_rejects("2026-01-31T12:00:00.123Zx");
}

static void parse_rejects_empty_fraction(void **state)
{
    (void)state;
    assert_rejects("2026-01-31T12:00:00.Z");
    assert_rejects("2026-01-31T12:00:00.+01:00");
    assert_rejects("2026-01-31T12:00:00.");
    assert_rejects("2026-01-31T12:00:00,123Z");
    assert_rejects("2026-01-31T12:00:00.12a3Z");
}

/* ---- round trips ---- */

static void round_trip(void **state)
{
    (void)state;
    const int64_t fixed[] = {0, 1, -1, 999, -999, 1000, -1001, S(951782400), S(1709164800) - 1,
                             S(4107542400), S(2147483648) + 7, S(253402300799) + 999,
                             S(-62135596800), S(1795370095) + 123};
    char text[ISO8601_LEN];
    int64_t back;
    for (size_t i = 0; i < COUNT_OF(fixed); i++) {
        time_format_iso8601(fixed[i], text);
        assert_true(time_parse_iso8601(text, &back));
        if (back != fixed[i])
            fail_msg("%lld -> %s -> %lld", (long long)fixed[i], text, (long long)back);
    }
    /* pseudo-random instants between year 1 and 9999 */
    uint64_t x = 88172645463325252u;
    const int64_t lo = S(-62135596800), span = S(253402300799) - lo;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = lo + (int64_t)(x % (uint64_t)span);
        time_format_iso8601(ms, text);
        assert_int_equal(strlen(text), 24);
        if (!time_parse_iso8601(text, &back) || back != ms)
            fail_msg("%lld -> %s -> %lld", (long long)ms, text, (long long)back);
    }
}

static void round_trip_text(void **state)
{
    /* canonical text survives parse then format */
    (void)state;
    const char *texts[] = {"2026-11-22T17:54:55.123Z", "1969-12-31T23:59:59.999Z",
                           "2000-02-29T12:34:56.789Z", "1970-01-01T00:00:00.000Z"};
    for (size_t i = 0; i < COUNT_OF(texts); i++) {
        int64_t ms;
        char out[ISO8601_LEN];
        assert_true(time_parse_iso8601(texts[i], &ms));
        time_format_iso8601(ms, out);
        assert_string_equal(out, texts[i]);
    }
}

static void now_is_now(void **state)
{
    (void)state;
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = time_now_ms();
    int64_t after = ((int64_t)time(NULL) + 1) * 1000;
    assert_true(now >= before);
    assert_true(now <= after);
    assert_true(time_now_ms() >= now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_epoch),
        cmocka_unit_test(format_milliseconds),
        cmocka_unit_test(format_negative),
        cmocka_unit_test(format_leap_years),
        cmocka_unit_test(format_fits_extremes),
        cmocka_unit_test(parse_utc),
        cmocka_unit_test(parse_lowercase_t_and_space),
        cmocka_unit_test(parse_offsets),
        cmocka_unit_test(parse_fractions),
        cmocka_unit_test(parse_leap_days),
        cmocka_unit_test(parse_rejects_missing_zone),
        cmocka_unit_test(parse_rejects_bad_dates),
        cmocka_unit_test(parse_rejects_bad_times),
        cmocka_unit_test(parse_rejects_garbage),
        cmocka_unit_test(parse_rejects_trailing_junk),
        cmocka_unit_test(parse_rejects_empty_fraction),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(round_trip_text),
        cmocka_unit_test(now_is_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
