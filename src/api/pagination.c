/* Cursor encoding and the pagination object (pagination.h). A cursor is
 * base64url("<fingerprint>.<position>"), the fingerprint a BLAKE2b hash of
 * the canonical filters and the scope. */
#include "api/pagination.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void page_filters_init(page_filters *f, arena *a)
{
    f->a = a;
    f->query = arena_strdup(a, "");
}

static char *percent_encode(arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, 3 * n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~') {
            *o++ = (char)*c;
        } else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = '\0';
    return out;
}

void page_filters_add(page_filters *f, const char *key, const char *value)
{
    f->query = arena_sprintf(f->a, "%s%s%s=%s", f->query, f->query[0] ? "&" : "", key,
                             percent_encode(f->a, value));
}

void page_filters_add_list(page_filters *f, const char *key, const str_list *l)
{
    if (l->count == 0)
        page_filters_add(f, key, "");
    for (size_t i = 0; i < l->count; i++)
        page_filters_add(f, key, l->items[i]);
}

static void fingerprint(const page_filters *f, const char *scope_key, char out[33])
{
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)scope_key, strlen(scope_key) + 1);
    crypto_generichash_update(&st, (const unsigned char *)f->query, strlen(f->query));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 33, h, sizeof h);
}

char *pagination_cursor_encode(arena *a, const page_filters *f, const char *scope_key, int64_t after)
{
    char fp[33];
    fingerprint(f, scope_key, fp);
    char *raw = arena_sprintf(a, "%s.%" PRId64, fp, after);
    size_t len = strlen(raw);
    size_t olen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(a, olen);
    sodium_bin2base64(out, olen, (const unsigned char *)raw, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

bool pagination_cursor_decode(arena *a, const page_filters *f, const char *scope_key,
                              const char *cursor, int64_t *after)
{
    size_t clen = strlen(cursor), rlen = 0;
    if (clen > 200)
        return false;
    char *raw = arena_alloc(a, clen + 1);
    if (sodium_base642bin((unsigned char *)raw, clen, cursor, clen, NULL, &rlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return false;
    raw[rlen] = '\0';
    char fp[33];
    fingerprint(f, scope_key, fp);
    if (rlen < 34 || raw[32] != '.' || sodium_memcmp(raw, fp, 32) != 0)
        return false;
    const char *digits = raw + 33;
    if (*digits < '0' || *digits > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(digits, &end, 10);
    if (errno || *end != '\0')
        return false;
    *after = v;
    return true;
}

void pagination_read(params *p, const page_filters *f, const char *scope_key,
                     int64_t default_limit, int64_t max_limit, page_request *out)
{
    out->limit = default_limit;
    out->after = 0;
    param_int(p, "limit", 1, max_limit, &out->limit);
    const char *cursor;
    if (param_str(p, "page_cursor", &cursor) &&
        !pagination_cursor_decode(f->a, f, scope_key, cursor, &out->after))
        param_reject(p, "page_cursor",
                     "Invalid page_cursor: it is malformed or was made for other filters");
}

json_t *pagination_json(arena *a, const page_filters *f, const char *scope_key, const char *base_url,
                        const page_request *req, bool has_next, int64_t last)
{
    if (!has_next)
        return json_pack("{s:b,s:n,s:n}", "has_next_page", 0, "next_page_cursor",
                         "next_page_url");
    char *cursor = pagination_cursor_encode(a, f, scope_key, last);
    char *url = arena_sprintf(a, "%s?%s%slimit=%" PRId64 "&page_cursor=%s", base_url, f->query,
                              f->query[0] ? "&" : "", req->limit, cursor);
    return json_pack("{s:b,s:s,s:s}", "has_next_page", 1, "next_page_cursor", cursor,
                     "next_page_url", url);
}
