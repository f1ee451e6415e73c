/* The route table (router.h). Paths and methods follow the OpenAPI
 * document; credentials follow shared/API.md. */
#include "api/router.h"

#include <string.h>

#define AK CRED_API_KEY
#define CST CRED_CLIENT_SESSION
#define PK CRED_PUBLISHABLE_KEY
#define GET_POST (METHOD_GET | METHOD_POST)

static const route ROUTES[] = {
    {"/health", METHOD_GET, 0, health_get},
    {"/workspaces/get", GET_POST, AK | CST, workspaces_get, .reads = true},
    {"/client_sessions/create", METHOD_POST | METHOD_PUT, AK | PK, client_sessions_create},
    {"/client_sessions/get_or_create", METHOD_POST, AK | PK, client_sessions_get_or_create},
    {"/client_sessions/get", GET_POST, AK | CST, client_sessions_get, .reads = true},
    {"/client_sessions/list", GET_POST, AK, client_sessions_list, .reads = true},
    {"/client_sessions/grant_access", METHOD_PATCH | METHOD_POST, AK, client_sessions_grant_access},
    {"/client_sessions/revoke", METHOD_POST, AK, client_sessions_revoke},
    {"/client_sessions/delete", METHOD_DELETE | METHOD_POST, AK, client_sessions_delete},
    {"/devices/get", GET_POST, AK | CST, devices_get, .reads = true},
    {"/devices/list", GET_POST, AK | CST, devices_list, .reads = true},
    {"/devices/update", METHOD_PATCH | METHOD_POST, AK | CST, devices_update},
    {"/devices/delete", METHOD_DELETE | METHOD_POST, AK, devices_delete},
    {"/devices/list_device_providers", GET_POST, AK | CST, devices_list_device_providers, .reads = true},
    {"/locks/get", GET_POST, AK | CST, locks_get, .reads = true},
    {"/locks/list", GET_POST, AK | CST, locks_list, .reads = true},
    {"/locks/lock_door", METHOD_POST, AK | CST, locks_lock_door},
    {"/locks/unlock_door", METHOD_POST, AK | CST, locks_unlock_door},
    {"/thermostats/get", GET_POST, AK | CST, thermostats_get, .reads = true},
    {"/thermostats/list", GET_POST, AK | CST, thermostats_list, .reads = true},
    {"/thermostats/heat", METHOD_POST, AK | CST, thermostats_heat},
    {"/thermostats/cool", METHOD_POST, AK | CST, thermostats_cool},
    {"/thermostats/heat_cool", METHOD_POST, AK | CST, thermostats_heat_cool},
    {"/thermostats/off", METHOD_POST, AK | CST, thermostats_off},
    {"/thermostats/set_hvac_mode", METHOD_POST, AK | CST, thermostats_set_hvac_mode},
    {"/thermostats/set_fan_mode", METHOD_POST, AK | CST, thermostats_set_fan_mode},
    {"/thermostats/set_temperature_threshold", METHOD_POST | METHOD_PATCH, AK | CST,
     thermostats_set_temperature_threshold},
    {"/access_codes/create", METHOD_POST, AK | CST, access_codes_create},
    {"/access_codes/create_multiple", METHOD_POST | METHOD_PUT, AK | CST,
     access_codes_create_multiple},
    {"/access_codes/get", GET_POST, AK | CST, access_codes_get, .reads = true},
    {"/access_codes/list", GET_POST, AK | CST, access_codes_list, .reads = true},
    {"/access_codes/update", METHOD_PATCH | METHOD_POST | METHOD_PUT, AK | CST,
     access_codes_update},
    {"/access_codes/update_multiple", METHOD_PATCH | METHOD_POST, AK | CST,
     access_codes_update_multiple},
    {"/access_codes/delete", METHOD_DELETE | METHOD_POST, AK | CST, access_codes_delete},
    {"/access_codes/generate_code", GET_POST, AK | CST, access_codes_generate_code},
    {"/access_codes/pull_backup_access_code", METHOD_POST, AK | CST,
     access_codes_pull_backup_access_code},
    {"/access_codes/unmanaged/get", GET_POST, AK | CST, access_codes_unmanaged_get, .reads = true},
    {"/access_codes/unmanaged/list", GET_POST, AK | CST, access_codes_unmanaged_list,
     .reads = true},
    {"/access_codes/unmanaged/convert_to_managed", METHOD_PATCH | METHOD_POST, AK | CST,
     access_codes_unmanaged_convert_to_managed},
    {"/access_codes/unmanaged/update", METHOD_PATCH | METHOD_POST, AK | CST,
     access_codes_unmanaged_update},
    {"/access_codes/unmanaged/delete", METHOD_DELETE | METHOD_POST, AK | CST,
     access_codes_unmanaged_delete},
    {"/access_codes/simulate/create_unmanaged_access_code", METHOD_POST, AK,
     access_codes_simulate_create_unmanaged_access_code},
    {"/devices/simulate/connect", METHOD_POST, AK, devices_simulate_connect},
    {"/devices/simulate/disconnect", METHOD_POST, AK, devices_simulate_disconnect},
    {"/thermostats/create_climate_preset", METHOD_POST, AK | CST, thermostats_create_climate_preset},
    {"/thermostats/update_climate_preset", METHOD_PATCH | METHOD_POST, AK | CST,
     thermostats_update_climate_preset},
    {"/thermostats/delete_climate_preset", METHOD_DELETE | METHOD_POST, AK | CST,
     thermostats_delete_climate_preset},
    {"/thermostats/set_fallback_climate_preset", METHOD_POST, AK | CST,
     thermostats_set_fallback_climate_preset},
    {"/thermostats/activate_climate_preset", METHOD_POST, AK | CST,
     thermostats_activate_climate_preset},
    {"/noise_sensors/noise_thresholds/list", GET_POST, AK | CST, noise_thresholds_list, .reads = true},
    {"/noise_sensors/noise_thresholds/get", GET_POST, AK | CST, noise_thresholds_get, .reads = true},
    {"/noise_sensors/noise_thresholds/create", METHOD_POST, AK | CST, noise_thresholds_create},
    {"/noise_sensors/noise_thresholds/update", METHOD_PATCH | METHOD_POST | METHOD_PUT, AK | CST,
     noise_thresholds_update},
    {"/noise_sensors/noise_thresholds/delete", METHOD_DELETE | METHOD_POST, AK | CST,
     noise_thresholds_delete},
    {"/devices/unmanaged/get", GET_POST, AK | CST, devices_unmanaged_get, .reads = true},
    {"/devices/unmanaged/list", GET_POST, AK | CST, devices_unmanaged_list, .reads = true},
    {"/devices/unmanaged/update", METHOD_PATCH | METHOD_POST, AK, devices_unmanaged_update},
    {"/action_attempts/get", GET_POST, AK | CST, action_attempts_get, .reads = true},
    {"/action_attempts/list", GET_POST, AK, action_attempts_list, .reads = true},
    {"/events/get", GET_POST, AK | CST, events_get, .reads = true},
    {"/events/list", GET_POST, AK | CST, events_list, .reads = true},
    {"/connected_accounts/get", GET_POST, AK | CST, connected_accounts_get, .reads = true},
    {"/connected_accounts/list", GET_POST, AK, connected_accounts_list, .reads = true},
    {"/connected_accounts/update", METHOD_PATCH | METHOD_POST, AK, connected_accounts_update},
    {"/connected_accounts/delete", METHOD_DELETE | METHOD_POST, AK, connected_accounts_delete},
    {"/connect_webviews/create", METHOD_POST, AK | CST, connect_webviews_create},
    {"/connect_webviews/get", GET_POST, AK | CST, connect_webviews_get, .reads = true},
    {"/connect_webviews/list", GET_POST, AK | CST, connect_webviews_list, .reads = true},
    {"/connect_webviews/delete", METHOD_DELETE | METHOD_POST, AK, connect_webviews_delete},
    {"/user_identities/create", METHOD_POST, AK, user_identities_create},
    {"/user_identities/get", GET_POST, AK, user_identities_get, .reads = true},
    {"/user_identities/list", GET_POST, AK, user_identities_list, .reads = true},
    {"/user_identities/update", METHOD_PATCH | METHOD_POST, AK, user_identities_update},
    {"/user_identities/delete", METHOD_DELETE | METHOD_POST, AK, user_identities_delete},
    {"/connect_webviews/view", GET_POST, 0, connect_webview_page, .page = true},
};

const route *router_find(const char *path)
{
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++)
        if (strcmp(ROUTES[i].path, path) == 0)
            return &ROUTES[i];
    return NULL;
}

size_t router_count(void)
{
    return sizeof ROUTES / sizeof *ROUTES;
}

const route *router_at(size_t i)
{
    return i < router_count() ? &ROUTES[i] : NULL;
}

static const char *const METHOD_NAMES[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

unsigned router_method_bit(const char *method)
{
    for (unsigned i = 0; i < sizeof METHOD_NAMES / sizeof *METHOD_NAMES; i++)
        if (strcmp(METHOD_NAMES[i], method) == 0)
            return 1u << i;
    return 0;
}

const char *router_method_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof METHOD_NAMES / sizeof *METHOD_NAMES; i++)
        if (bit == 1u << i)
            return METHOD_NAMES[i];
    return NULL;
}

const char *router_allow_header(arena *a, unsigned methods)
{
    const char *out = "";
    for (unsigned i = 0; i < sizeof METHOD_NAMES / sizeof *METHOD_NAMES; i++)
        if (methods & (1u << i))
            out = arena_sprintf(a, "%s%s%s", out, *out ? ", " : "", METHOD_NAMES[i]);
    return out;
}
