/* Time as milliseconds since the Unix epoch, and its ISO 8601 UTC form
 * ("2026-11-22T17:54:55.123Z") on the wire and in the store. */
#ifndef LATCHKEY_TIMEUTIL_H
#define LATCHKEY_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define ISO8601_LEN 48 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and NUL, with room for any int */

int64_t time_now_ms(void);
void time_format_iso8601(int64_t ms, char out[ISO8601_LEN]);
/* Accepts RFC 3339 date-times: optional fraction, 'Z' or a +hh:mm offset. */
bool time_parse_iso8601(const char *s, int64_t *ms_out);

#endif
