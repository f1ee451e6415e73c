/* Workspace and API key creation, and the --seed fixture (admin.h). */
#include "admin.h"

#include "core/code_rules.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "providers/sandbox_thermostat.h"

err admin_workspace_create(store *s, arena *a, const char *name, bool sandbox,
                           store_workspace *out)
{
    char *id = arena_alloc(a, UUID_STR_LEN);
    uuid_v4(id);
    *out = (store_workspace){
        .workspace_id = id,
        .name = name,
        .company_name = name,
        .is_sandbox = sandbox,
        .publishable_key = token_new_publishable_key(a),
        .created_at = time_now_ms(),
    };
    return store_workspace_create(s, out);
}

static err api_key_insert(store *s, const token_keys *keys, const char *id,
                          const char *workspace_id, const char *name, const char *token)
{
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(keys, token, hash);
    return store_api_key_create(s, id, workspace_id, name, hash, time_now_ms());
}

err admin_api_key_create(store *s, const token_keys *keys, arena *a, const char *workspace_id,
                         const char *name, const char **api_key_id, const char **api_key)
{
    store_workspace w;
    err e = store_workspace_get(s, a, workspace_id, &w);
    if (err_failed(e))
        return e;
    char *id = arena_alloc(a, UUID_STR_LEN);
    uuid_v4(id);
    *api_key_id = id;
    *api_key = token_new_api_key(a);
    return api_key_insert(s, keys, id, workspace_id, name, *api_key);
}

/* ---- the fixture: the same ids and tokens as fake-seam-connect --seed ---- */

#define WS1 "seed_workspace_1"
#define WS2 "seed_workspace_2"
#define JOHN "john_connected_account_id"
#define JANE "jane_connected_account_id"

static err seed_devices(store *s, int64_t t)
{
    /* fake-seam-connect's thermostat, with what a sandbox ecobee reports
     * of itself, resting at 21.5 °C (between its set points). */
    static const char ecobee_extra[] =
        "{" SANDBOX_THERMOSTAT_REPORTS "\"available_climate_presets\":[],"
        "\"temperature_celsius\":21.5,\"temperature_fahrenheit\":70.7,\"relative_humidity\":0.4,"
        "\"is_heating\":false,\"is_cooling\":false,\"is_fan_running\":false,"
        "\"fan_mode_setting\":\"auto\",\"current_climate_setting\":{"
        "\"automatic_heating_enabled\":false,\"automatic_cooling_enabled\":true,"
        "\"hvac_mode_setting\":\"cool\",\"manual_override_allowed\":true,"
        "\"fan_mode_setting\":\"auto\",\"cooling_set_point_celsius\":24,"
        "\"cooling_set_point_fahrenheit\":75.2,\"heating_set_point_celsius\":18,"
        "\"heating_set_point_fahrenheit\":64.4}}";
    const store_device devices[] = {
        {.device_id = "august_device_1", .connected_account_id = JOHN,
         .device_type = "august_lock", .manufacturer = "august", .name = "Fake August Lock 1",
         .nickname = "Front Door", .online = true, .locked = 1, .battery_level = -1, .can_remotely_lock = true,
         .can_remotely_unlock = true, .extra_properties = code_rules_sandbox_properties("august_lock")},
        {.device_id = "august_device_2", .connected_account_id = JOHN,
         .device_type = "august_lock", .manufacturer = "august", .name = "Fake August Lock 2",
         .nickname = "Back Door", .online = true, .locked = 1, .battery_level = -1, .can_remotely_lock = true,
         .can_remotely_unlock = true, .extra_properties = code_rules_sandbox_properties("august_lock")},
        {.device_id = "ecobee_device_1", .connected_account_id = JOHN,
         .device_type = "ecobee_thermostat", .manufacturer = "ecobee", .name = "Thermostat 1",
         .online = true, .locked = -1, .battery_level = -1, .extra_properties = ecobee_extra},
        {.device_id = "minut_device_1", .connected_account_id = JOHN,
         .device_type = "minut_sensor", .manufacturer = "minut", .name = "Minut Sensor 1",
         .online = true, .locked = -1, .battery_level = -1,
         .extra_properties = "{\"noise_level_decibels\":42.5}"},
        {.device_id = "schlage_device_id", .connected_account_id = JANE,
         .device_type = "schlage_lock", .manufacturer = "schlage", .name = "Bathroom Door",
         .nickname = "Bathroom Door", .online = true, .locked = 1, .battery_level = -1, .can_remotely_lock = true,
         .can_remotely_unlock = true, .extra_properties = code_rules_sandbox_properties("schlage_lock")},
    };
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
        store_device d = devices[i];
        d.workspace_id = WS1;
        d.created_at = t + (int64_t)i;
        err e = store_device_create(s, &d);
        if (err_failed(e))
            return e;
    }
    return ERR_NONE;
}

static err seed_client_session(store *s, const token_keys *keys, arena *a, int64_t t)
{
    static const char *accounts[] = {JOHN};
    static const char *webviews[] = {"connect_webview1"};
    const char *token = "seam_cst1_token";
    char hash[TOKEN_HASH_HEX_LEN];
    token_hash(keys, token, hash);
    store_client_session cs = {
        .client_session_id = "seed_client_session_1",
        .workspace_id = WS1,
        .user_identifier_key = "john_user_identifier_key",
        .token_sealed = token_seal(a, keys, token),
        .user_identity_id = "john_user_identity_id",
        .created_at = t,
        .expires_at = t + 10LL * 365 * 24 * 3600 * 1000, /* a fixture outlives any test */
    };
    store_client_session_grants grants = {
        .connected_account_ids = {accounts, 1},
        .connect_webview_ids = {webviews, 1},
        .user_identity_id = "john_user_identity_id",
    };
    return store_client_session_create(s, &cs, hash, &grants, NULL);
}

typedef struct seed_ctx {
    const token_keys *keys;
    arena *a;
} seed_ctx;

static err seed_all(store *s, void *ctx_)
{
    seed_ctx *ctx = ctx_;
    const token_keys *keys = ctx->keys;
    arena *a = ctx->a;
    store_workspace existing;
    err e = store_workspace_get(s, a, WS1, &existing);
    if (!store_not_found(e)) /* seeded already, or a failure */
        return e;
    int64_t t = time_now_ms();
    const store_workspace workspaces[] = {
        {WS1, "My Workspace", "My Workspace", true, "seam_pk1_token", t},
        {WS2, "Empty Workspace", "Empty Workspace", true, "seam_pk2_token", t},
    };
    for (size_t i = 0; i < 2; i++)
        if (err_failed(e = store_workspace_create(s, &workspaces[i])))
            return e;
    if (err_failed(e = api_key_insert(s, keys, "seed_api_key_1", WS1, "Seed API Key 1",
                                      "seam_apikey1_token")) ||
        err_failed(e = api_key_insert(s, keys, "seed_api_key_2", WS2, "Seed API Key 2",
                                      "seam_apikey2_token")))
        return e;
    const store_connected_account accounts[] = {
        {.connected_account_id = JOHN, .workspace_id = WS1, .provider = "august",
         .user_email = "john@example.com", .created_at = t},
        {.connected_account_id = JANE, .workspace_id = WS1, .provider = "schlage",
         .user_email = "jane@example.com", .created_at = t + 1},
    };
    for (size_t i = 0; i < 2; i++)
        if (err_failed(e = store_connected_account_create(s, &accounts[i])))
            return e;
    store_connect_webview cw = {.connect_webview_id = "connect_webview1", .workspace_id = WS1,
                                .auth_token_sealed = token_seal(a, keys, token_new_url_secret(a)),
                                .connected_account_id = JOHN, .status = "authorized",
                                .accepted_providers = "august", .selected_provider = "august",
                                .login_successful = true, .authorized_at = t, .created_at = t};
    store_user_identity ui = {.user_identity_id = "john_user_identity_id", .workspace_id = WS1,
                              .user_identity_key = "john_user_identifier_key",
                              .email_address = "jane@example.com", .created_at = t};
    /* The noise sensor's threshold, as fake-seam-connect seeds it. */
    store_noise_threshold nt = {.noise_threshold_id = "ab9c3f4e-8d2b-4c61-9e57-2f0a6d1b7c34",
                                .workspace_id = WS1, .device_id = "minut_device_1",
                                .connected_account_id = JOHN, .name = "builtin_normal_hours",
                                .starts_daily_at = "00:00:00[America/Los_Angeles]",
                                .ends_daily_at = "23:59:59[America/Los_Angeles]",
                                .noise_threshold_decibels = 60, .noise_threshold_nrs = -1,
                                .created_at = t};
    if (err_failed(e = store_connect_webview_create(s, &cw)) ||
        err_failed(e = store_user_identity_create(s, &ui)) ||
        err_failed(e = seed_devices(s, t)) || err_failed(e = store_noise_threshold_create(s, &nt)))
        return e;
    return seed_client_session(s, keys, a, t);
}

err admin_seed(store *s, const token_keys *keys, arena *a)
{
    seed_ctx ctx = {keys, a};
    return store_transaction(s, seed_all, &ctx);
}
