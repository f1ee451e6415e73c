/* The server secret behind token hashes and sealed tokens. It comes from
 * LATCHKEY_SECRET (64 hex characters) or from DATA_DIR/secret.key (mode 0600,
 * created on first start); it is never stored in the database. */
#ifndef LATCHKEY_SECRET_H
#define LATCHKEY_SECRET_H

#include <stdbool.h>

#include "auth/tokens.h"

/* On failure writes a reason to why (of size whylen) and returns false. */
bool server_secret_load(const char *env_value, const char *data_dir,
                        unsigned char out[SERVER_SECRET_LEN], char *why, size_t whylen);

#endif
