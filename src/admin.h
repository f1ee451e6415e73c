/* Administration that the command line offers: creating workspaces and API
 * keys (secrets are returned once, only their hashes are stored), and the
 * --seed fixture. */
#ifndef LATCHKEY_ADMIN_H
#define LATCHKEY_ADMIN_H

#include "auth/tokens.h"
#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

err admin_workspace_create(store *s, arena *a, const char *name, bool sandbox,
                           store_workspace *out);
err admin_api_key_create(store *s, const token_keys *keys, arena *a, const char *workspace_id,
                         const char *name, const char **api_key_id, const char **api_key);
/* Loads the fixture of shared/API.md, literally; does nothing when it is
 * already there. */
err admin_seed(store *s, const token_keys *keys, arena *a);

#endif
