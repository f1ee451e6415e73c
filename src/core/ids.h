/* Identifiers: random UUIDv4 strings from libsodium's CSPRNG. */
#ifndef LATCHKEY_IDS_H
#define LATCHKEY_IDS_H

#include <stdbool.h>

#define UUID_STR_LEN 37 /* 36 characters and the terminating NUL */

void uuid_v4(char out[UUID_STR_LEN]);
bool uuid_is_valid(const char *s);

#endif
