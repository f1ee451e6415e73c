/* Resources as the API shows them: one function per resource type, each
 * returning a new jansson object in the OpenAPI schema's shape. */
#ifndef LATCHKEY_RENDER_H
#define LATCHKEY_RENDER_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

struct provider;

json_t *render_time(int64_t ms);
json_t *render_workspace(const store_workspace *w);
/* token: the session's token in the clear (unsealed by the caller). */
json_t *render_client_session(const store_client_session *cs, const char *token);
json_t *render_device(const store_device *d);
/* What the unmanaged_device schema requires, and no state: latchkey does
 * not manage the device. */
json_t *render_unmanaged_device(const store_device *d);
/* p: the account's provider, which the caller looked up (NULL: unknown). */
json_t *render_connected_account(const store_connected_account *ca, const struct provider *p);
/* url: the webview's URL, with its token (built by the caller). */
json_t *render_connect_webview(const store_connect_webview *cw, const char *url);
json_t *render_action_attempt(const store_action_attempt *aa);
json_t *render_event(const store_event *ev);
/* An access code on device d (its errors include the device's). */
json_t *render_access_code(const store_access_code *ac, const store_device *d);
json_t *render_user_identity(const store_user_identity *ui);
json_t *render_noise_threshold(const store_noise_threshold *nt);
/* image_url is a self-contained data: URI (a badge with the initial), so
 * no asset needs serving. */
json_t *render_device_provider(const struct provider *p);
/* An opaque serialized object from the store, or a new empty object. */
json_t *render_stored_object(const char *text);

#endif
