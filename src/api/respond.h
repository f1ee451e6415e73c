/* Answers in the API's shapes, written once for the request pipeline
 * (api.c) and for requests answered later (waits.c). */
#ifndef LATCHKEY_RESPOND_H
#define LATCHKEY_RESPOND_H

#include <jansson.h>

#include "api/api.h"
#include "api/handler.h"
#include "api/params.h"

void respond_header(api_response *res, const char *name, const char *value);
#define RESPOND_JSON_TYPE "application/json; charset=utf-8"

/* Serialises body (and releases it); a body that cannot be written becomes
 * a 500 in the error shape. */
void respond_json(api_response *res, int status, json_t *body);
/* e in the error shape; with p, invalid_input lists its validation errors. */
void respond_error(api_response *res, err e, params *p);
/* The HTML page (or redirect) a handler of a page route made. */
void respond_page(api_response *res, const api_call *c);

#endif
