/* What a resource handler is given, and the handlers the router knows.
 * A handler reads its parameters, calls params_check before it acts, and
 * on success sets `out` to the response object (the pipeline adds "ok"). */
#ifndef LATCHKEY_HANDLER_H
#define LATCHKEY_HANDLER_H

#include <jansson.h>

#include "api/api.h"
#include "api/params.h"
#include "auth/auth.h"

typedef struct api_call {
    const api_server *srv;
    arena *a;
    const auth_ctx *auth;
    params *p;
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the route's path, e.g. "/devices/list" */
    int64_t now;
    json_t *out;
    /* Pages (routes marked `page`) answer with HTML or a redirect instead. */
    const char *html;
    int html_status;      /* 200 when 0 */
    const char *redirect; /* 303 to this URL */
    /* Set by a handler that answers once an action attempt is done. */
    api_wait wait;
    /* What a list's row renderer needs beyond the row (listing.h). */
    void *render_ctx;
} api_call;

typedef err (*api_handler)(api_call *c);

/* The scope of the caller, narrowed to one user's client session when
 * user_identifier_key is not NULL. */
store_scope api_scope(const api_call *c, const char *user_identifier_key);
/* A stable text naming a scope, for binding cursors to it. */
const char *api_scope_key(const api_call *c, const store_scope *scope);

err health_get(api_call *c);
err workspaces_get(api_call *c);
err client_sessions_create(api_call *c);
err client_sessions_get_or_create(api_call *c);
err client_sessions_get(api_call *c);
err client_sessions_list(api_call *c);
err client_sessions_grant_access(api_call *c);
err client_sessions_revoke(api_call *c);
err client_sessions_delete(api_call *c);
err devices_get(api_call *c);
err devices_list(api_call *c);
err devices_update(api_call *c);
err devices_delete(api_call *c);
err devices_list_device_providers(api_call *c);
err locks_get(api_call *c);
err locks_list(api_call *c);
err thermostats_get(api_call *c);
err thermostats_list(api_call *c);
err thermostats_heat(api_call *c);
err thermostats_cool(api_call *c);
err thermostats_heat_cool(api_call *c);
err thermostats_off(api_call *c);
err thermostats_set_hvac_mode(api_call *c);
err thermostats_set_fan_mode(api_call *c);
err thermostats_set_temperature_threshold(api_call *c);
err locks_lock_door(api_call *c);
err locks_unlock_door(api_call *c);
err action_attempts_get(api_call *c);
err action_attempts_list(api_call *c);
err events_get(api_call *c);
err events_list(api_call *c);
err connected_accounts_get(api_call *c);
err connected_accounts_list(api_call *c);
err connected_accounts_update(api_call *c);
err connected_accounts_delete(api_call *c);
err connect_webviews_create(api_call *c);
err connect_webviews_get(api_call *c);
err connect_webviews_list(api_call *c);
err connect_webviews_delete(api_call *c);
err user_identities_create(api_call *c);
err user_identities_get(api_call *c);
err user_identities_list(api_call *c);
err user_identities_update(api_call *c);
err user_identities_delete(api_call *c);
err access_codes_create(api_call *c);
err access_codes_create_multiple(api_call *c);
err access_codes_get(api_call *c);
err access_codes_list(api_call *c);
err access_codes_update(api_call *c);
err access_codes_update_multiple(api_call *c);
err access_codes_delete(api_call *c);
err access_codes_generate_code(api_call *c);
err access_codes_pull_backup_access_code(api_call *c);
err access_codes_unmanaged_get(api_call *c);
err access_codes_unmanaged_list(api_call *c);
err access_codes_unmanaged_convert_to_managed(api_call *c);
err access_codes_unmanaged_update(api_call *c);
err access_codes_unmanaged_delete(api_call *c);
err access_codes_simulate_create_unmanaged_access_code(api_call *c);
/* devices/update's backup_access_code_pool_enabled (api/access_codes.c). */
err access_codes_switch_backup_pool(api_call *c, const char *device_id, bool enabled);
err devices_simulate_connect(api_call *c);
err devices_simulate_disconnect(api_call *c);
err devices_unmanaged_get(api_call *c);
err devices_unmanaged_list(api_call *c);
err devices_unmanaged_update(api_call *c);
/* 403 unless the caller's workspace is a sandbox (simulations). */
err api_sandbox_only(api_call *c);
/* The connect webview's page (api/connect_page.c). */
err connect_webview_page(api_call *c);
/* Climate presets (api/climate_presets.c). */
err thermostats_create_climate_preset(api_call *c);
err thermostats_update_climate_preset(api_call *c);
err thermostats_delete_climate_preset(api_call *c);
err thermostats_set_fallback_climate_preset(api_call *c);
err thermostats_activate_climate_preset(api_call *c);
/* Noise thresholds (api/noise_thresholds.c). */
err noise_thresholds_list(api_call *c);
err noise_thresholds_get(api_call *c);
err noise_thresholds_create(api_call *c);
err noise_thresholds_update(api_call *c);
err noise_thresholds_delete(api_call *c);

#endif
