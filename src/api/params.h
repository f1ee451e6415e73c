/* Typed request parameters, from the query string (GET) or the JSON body.
 * Accessors return true when the parameter is present and well-typed; every
 * problem is collected, and params_check turns them, with any key no handler
 * asked for, into one invalid_input error naming each parameter. */
#ifndef LATCHKEY_PARAMS_H
#define LATCHKEY_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str_list.h"

typedef struct params params;

/* Limits on what a request may hand over: list lengths, and the length in
 * characters of every string (URLs may be longer). */
enum { PARAM_MAX_LIST = 1000, PARAM_MAX_TEXT = 255, PARAM_MAX_URL = 2048 };

params *params_from_json(arena *a, json_t *body);
params *params_from_query(arena *a, const api_kv *kv, size_t n);
/* Decodes an application/x-www-form-urlencoded body into pairs appended to
 * *kv (of *n, capacity *cap, in the arena). */
void form_decode(arena *a, const char *body, size_t len, api_kv **kv, size_t *n, size_t *cap);

/* A string of at most PARAM_MAX_TEXT characters. */
bool param_str(params *p, const char *key, const char **out);
/* A string of at most max characters. */
bool param_long_str(params *p, const char *key, size_t max, const char **out);
/* A string that must not be empty when given. */
bool param_nonempty_str(params *p, const char *key, const char **out);
/* One of choices (NULL-terminated), when given. */
bool param_choice(params *p, const char *key, const char *const *choices, const char **out);
/* An array of strings of at most PARAM_MAX_TEXT characters (query:
 * repeated keys; "key=" alone is []). */
bool param_str_list(params *p, const char *key, str_list *out);
bool param_bool(params *p, const char *key, bool *out);
bool param_int(params *p, const char *key, int64_t min, int64_t max, int64_t *out);
/* A number between min and max (query: a decimal). */
bool param_number(params *p, const char *key, double min, double max, double *out);
/* An ISO 8601 date-time, as milliseconds since the epoch. */
bool param_time(params *p, const char *key, int64_t *out);
/* A JSON object (query: dotted keys, "key.sub=value", with "true"/"false"
 * read as booleans). *out is a new reference the caller releases. */
bool param_object(params *p, const char *key, json_t **out);
/* Whether key was sent as an explicit JSON null (to clear a field). */
bool param_null(params *p, const char *key);
/* Whether key was sent at all (with any value but JSON null). */
bool param_present(params *p, const char *key);

/* A non-empty string that must be given; NULL (and a problem recorded)
 * when it is not. */
const char *param_required_str(params *p, const char *key);
/* Two non-empty strings that name one thing two ways (an id or a name):
 * at least one is required; the problem is reported under key_a. */
void param_either(params *p, const char *key_a, const char **a, const char *key_b,
                  const char **b);

/* The items of list that are also in within, as a new list in the arena. */
const str_list *str_list_intersect(arena *a, const str_list *list, const str_list *within);
/* A filter given as one value and/or a list (each may be NULL): NULL when
 * neither; one alone as a list; both: the values both allow. */
const str_list *filter_values(arena *a, const char *single, const str_list *list);

/* Whether any of keys (NULL-terminated) was given, as a string or a list
 * of strings: filters on resources latchkey does not have (ACS, spaces,
 * access grants...), which take their documented parameters and match
 * nothing. */
bool param_names_absent_resource(params *p, const char *const *keys);

/* Records a problem with key (also for rules the handler checks itself). */
void param_reject(params *p, const char *key, const char *message);

/* ERR_NONE, or invalid_input when anything was rejected or unrecognized. */
err params_check(params *p);
/* The {"<param>": {"_errors": [...]}} object, or NULL; borrowed. */
json_t *params_validation_errors(params *p);
void params_free(params *p);

#endif
