/* UTF-8 text as the API takes it: validity (the JSON we answer with must
 * be valid UTF-8, so every input is checked once, at the edge) and length
 * in characters as the Seam API counts them (UTF-16 code units). */
#ifndef LATCHKEY_UTF8_H
#define LATCHKEY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates, or code
 * points past U+10FFFF) with no NUL byte. */
bool utf8_valid(const char *s, size_t n);
/* The length of valid UTF-8 text in UTF-16 code units (what JavaScript's
 * string length and the Seam API's "N characters" count). */
size_t utf8_utf16_length(const char *s);

#endif
