/* The shape every paginated list shares: the request's filters and scope
 * bind the cursor; one row more than the page tells whether another page
 * follows; rows render under the resource's key beside `pagination`. */
#ifndef LATCHKEY_LISTING_H
#define LATCHKEY_LISTING_H

#include "api/handler.h"
#include "api/pagination.h"

typedef struct listing {
    page_filters filters; /* add every filter the request gave, before listing_begin */
    const char *scope_key;
    page_request page;
} listing;

void listing_init(listing *l, api_call *c);
/* Adds a custom_metadata_has filter (may be NULL) to the listing's filters. */
void listing_add_metadata(listing *l, api_call *c, const metadata_filter *m);
/* Reads limit and page_cursor for this scope and the filters added so far,
 * and checks the parameters; returns the store page to ask for. */
err listing_begin(listing *l, api_call *c, const store_scope *scope, store_page *sp);

/* A row as JSON; NULL when it cannot be rendered. */
typedef json_t *(*row_renderer)(api_call *c, const void *row);
/* Responds with rows (records of elem bytes, each starting with its int64
 * seq) under key. */
err listing_respond(listing *l, api_call *c, const char *key, const void *rows, size_t n,
                    size_t elem, row_renderer render);

/* Fetches one page of a resource within scope, filtered. */
typedef err (*user_metadata_fetch)(api_call *c, const store_scope *scope,
                                   const store_list_filter *f, const store_page *page,
                                   void **rows, size_t *n);

/* A whole list route whose filters are user_identifier_key (narrowing to
 * that user's client session), custom_metadata_has, customer_key and
 * search, and the keys of `absent` (NULL-terminated, or NULL): filters on
 * what latchkey does not have, matching nothing. */
err listing_by_user_and_metadata(api_call *c, const char *key, user_metadata_fetch fetch,
                                 const char *const *absent, size_t elem, row_renderer render);

#endif
