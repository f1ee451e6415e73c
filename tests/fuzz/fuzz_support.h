/* What the fuzz targets share: one seeded store in a temporary directory with
 * an api_server over it (as `latchkey serve --seed` sets it up), requests run
 * against it and rolled back, and the splitting of an input into fields. */
#ifndef LATCHKEY_FUZZ_SUPPORT_H
#define LATCHKEY_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/arena.h"

/* The credentials of the seed fixture (admin_seed). */
#define FUZZ_API_KEY "seam_apikey1_token"
#define FUZZ_CLIENT_SESSION_TOKEN "seam_cst1_token"
#define FUZZ_PUBLISHABLE_KEY "seam_pk1_token"

/* Connect webviews the fuzz fixture adds beside the seed's (whose URL token
 * is random): pending, with URL tokens the seed corpora know. The first
 * offers several providers and redirects; the second offers one. */
#define FUZZ_WEBVIEW_ID "fuzz_webview_1"
#define FUZZ_WEBVIEW_TOKEN "FuzzWebviewToken0000000000000001"
#define FUZZ_WEBVIEW_SINGLE_ID "fuzz_webview_2"
#define FUZZ_WEBVIEW_SINGLE_TOKEN "FuzzWebviewToken0000000000000002"

/* libFuzzer's entry points: each target defines the first; fuzz_support.c
 * the second (libsodium's initialisation). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The server, set up on first use (aborts when it cannot be) and taken
 * down at exit. */
const api_server *fuzz_server(void);

/* Runs req through api_handle inside a store transaction that is then
 * rolled back, so that every input meets the same store; a request that
 * waits for its action attempt is answered at once. Aborts, printing
 * the exchange, when the answer is a 500 (the server's own fault) or has no
 * body; prints every exchange when FUZZ_VERBOSE is set (to see what a
 * corpus file does: FUZZ_VERBOSE=1 build-fuzz/fuzz/<target> FILE). */
void fuzz_api_call(const api_request *req);

/* An input consumed front to back. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

/* The bytes up to the next newline (consumed, not included), or to the end,
 * as a string in the arena; NULL once the input is used up. */
char *fuzz_line(fuzz_input *in, arena *a);
/* All that is left (possibly nothing), as a string in the arena; its length
 * (which counts any NUL bytes inside) in *len. */
char *fuzz_rest(fuzz_input *in, arena *a, size_t *len);

/* Decodes "k=v&k=v" (form_decode) into pairs in the arena; returns the count. */
size_t fuzz_query(arena *a, const char *query, api_kv **kv);

#endif
