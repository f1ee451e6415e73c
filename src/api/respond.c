/* Answers in the API's shapes: JSON (every failure in the one error shape)
 * and the connect webview's HTML pages. */
#include "api/respond.h"

#include <stdlib.h>
#include <string.h>

void respond_header(api_response *res, const char *name, const char *value)
{
    if (res->nheaders < API_MAX_HEADERS) {
        res->headers[res->nheaders].name = name;
        res->headers[res->nheaders].value = value;
        res->nheaders++;
    }
}

void respond_json(api_response *res, int status, json_t *body)
{
    res->status = status;
    res->content_type = RESPOND_JSON_TYPE;
    res->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!res->body) { /* a text that is not UTF-8 got past the checks: still the error shape */
        res->status = 500;
        res->body = strdup("{\"error\":{\"type\":\"internal_error\",\"message\":"
                           "\"The response could not be written.\"},\"ok\":false}");
    }
    res->body_len = res->body ? strlen(res->body) : 0;
}

void respond_error(api_response *res, err e, params *p)
{
    json_t *error = json_pack("{s:s,s:s}", "type", e.type ? e.type : "internal_error", "message",
                              e.message ? e.message : "Something went wrong.");
    json_t *validation = p ? params_validation_errors(p) : NULL;
    if (validation && e.type && strcmp(e.type, "invalid_input") == 0)
        json_object_set(error, "validation_errors", validation);
    respond_json(res, err_http_status(e.kind), json_pack("{s:o,s:b}", "error", error, "ok", 0));
}

void respond_page(api_response *res, const api_call *c)
{
    if (c->redirect) {
        res->status = 303;
        respond_header(res, "Location", c->redirect);
        res->body = strdup("");
    } else {
        res->status = c->html_status ? c->html_status : 200;
        res->body = strdup(c->html ? c->html : "");
    }
    res->body_len = strlen(res->body);
    res->content_type = "text/html; charset=utf-8";
    /* The URL carries the webview's token: no referrer, no caching, and
     * nothing loaded from anywhere. */
    respond_header(res, "Referrer-Policy", "no-referrer");
    respond_header(res, "Cache-Control", "no-store");
    respond_header(res, "X-Content-Type-Options", "nosniff");
    respond_header(res, "Content-Security-Policy",
               "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'");
}
