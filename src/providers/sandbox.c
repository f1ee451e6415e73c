/* Sandbox providers: august, schlage, yale, nuki (locks) and ecobee
 * (thermostats), with the documented logins of docs/connect-webview.md.
 * Every login's password is "1234". Device state lives in latchkey's store;
 * the sandbox only decides whether an action succeeds (an offline device
 * fails with PROVIDER_DEVICE_OFFLINE). */
#include <string.h>

#include "providers/provider.h"
#include "providers/sandbox_thermostat.h"

#define SANDBOX_PASSWORD "1234"

static const char *const SANDBOX_LOGINS[] = {"jane@example.com", "john@example.com",
                                             "offline@example.com", NULL};

/* An ecobee's own presets (ecobee "comforts"): changed, not deleted. */
#define ECOBEE_PRESET(key_, name_, heat_c, heat_f, cool_c, cool_f)                         \
    "{\"climate_preset_key\":\"" key_ "\",\"name\":\"" name_ "\",\"display_name\":\"" name_   \
    "\",\"climate_preset_mode\":\"" key_ "\",\"hvac_mode_setting\":\"heat_cool\","                \
    "\"fan_mode_setting\":\"auto\",\"heating_set_point_celsius\":" heat_c                      \
    ",\"heating_set_point_fahrenheit\":" heat_f ",\"cooling_set_point_celsius\":" cool_c        \
    ",\"cooling_set_point_fahrenheit\":" cool_f ",\"manual_override_allowed\":true,"            \
    "\"can_edit\":true,\"can_delete\":false,\"can_use_with_thermostat_daily_programs\":true,"   \
    "\"ecobee_metadata\":{\"climate_ref\":\"" key_ "\",\"is_optimized\":false,"                  \
    "\"owner\":\"system\"}}"

/* Heating to 20 °C (with both set points, as an ecobee keeps them in every
 * mode); at 21.5 °C it rests. */
static const char THERMOSTAT_PROPERTIES[] =
    "{" SANDBOX_THERMOSTAT_REPORTS
    "\"available_climate_presets\":["
    ECOBEE_PRESET("home", "Home", "20", "68", "24", "75.2") ","
    ECOBEE_PRESET("away", "Away", "16", "60.8", "28", "82.4") ","
    ECOBEE_PRESET("sleep", "Sleep", "18", "64.4", "26", "78.8") "],"
    "\"temperature_celsius\":21.5,\"temperature_fahrenheit\":70.7,\"relative_humidity\":0.42,"
    "\"is_heating\":false,\"is_cooling\":false,\"is_fan_running\":false,"
    "\"fan_mode_setting\":\"auto\",\"current_climate_setting\":{\"hvac_mode_setting\":\"heat\","
    "\"heating_set_point_celsius\":20,\"heating_set_point_fahrenheit\":68,"
    "\"cooling_set_point_celsius\":24,\"cooling_set_point_fahrenheit\":75.2,"
    "\"fan_mode_setting\":\"auto\",\"manual_override_allowed\":true}}";

/* The sandbox accounts of one lock provider: each login's locks. */
#define LOCK(key_, name_, model_, locked_, battery_, online_)                              \
    {.key = key_, .name = name_, .model = model_, .online = online_, .locked = locked_,      \
     .battery_level = battery_, .can_remotely_lock = true, .can_remotely_unlock = true}

typedef struct sandbox_login {
    provider_account account;
} sandbox_login;

typedef struct sandbox_provider {
    provider base;
    const sandbox_login *logins;
    size_t login_count;
} sandbox_provider;

static const provider_device JANE_LOCKS[] = {
    LOCK("jane-front", "Front Door", "Smart Lock Pro", 1, 0.86, true),
    LOCK("jane-back", "Back Door", "Smart Lock", 1, 0.64, true),
};
static const provider_device JOHN_LOCKS[] = {
    LOCK("john-main", "Main Entrance", "Smart Lock Pro", 1, 0.91, true),
    LOCK("john-garage", "Garage Door", "Smart Lock", 0, 0.47, true),
    LOCK("john-office", "Office", "Smart Lock", 1, 0.22, true),
};
static const provider_device OFFLINE_LOCKS[] = {
    LOCK("offline-porch", "Porch", "Smart Lock", 1, 0.75, true),
    LOCK("offline-shed", "Shed", "Smart Lock", 1, 0.05, false),
};

static const provider_device JANE_THERMOSTATS[] = {
    {.key = "jane-living", .name = "Living Room", .model = "SmartThermostat", .online = true,
     .locked = -1, .battery_level = -1, .extra_properties = THERMOSTAT_PROPERTIES},
    {.key = "jane-bedroom", .name = "Bedroom", .model = "SmartThermostat", .online = true,
     .locked = -1, .battery_level = -1, .extra_properties = THERMOSTAT_PROPERTIES},
};
static const provider_device JOHN_THERMOSTATS[] = {
    {.key = "john-hall", .name = "Hallway", .model = "SmartThermostat", .online = true,
     .locked = -1, .battery_level = -1, .extra_properties = THERMOSTAT_PROPERTIES},
};
static const provider_device OFFLINE_THERMOSTATS[] = {
    {.key = "offline-cabin", .name = "Cabin", .model = "SmartThermostat", .online = false,
     .locked = -1, .battery_level = -1, .extra_properties = THERMOSTAT_PROPERTIES},
};

#define ACCOUNT(login_, devices_)                                                          \
    {{.login = login_, .devices = devices_, .device_count = sizeof devices_ / sizeof *devices_}}

static const sandbox_login LOCK_LOGINS[] = {
    ACCOUNT("jane@example.com", JANE_LOCKS),
    ACCOUNT("john@example.com", JOHN_LOCKS),
    ACCOUNT("offline@example.com", OFFLINE_LOCKS),
};
static const sandbox_login THERMOSTAT_LOGINS[] = {
    ACCOUNT("jane@example.com", JANE_THERMOSTATS),
    ACCOUNT("john@example.com", JOHN_THERMOSTATS),
    ACCOUNT("offline@example.com", OFFLINE_THERMOSTATS),
};

static const sandbox_login *find_login(const sandbox_provider *sp, const char *username)
{
    for (size_t i = 0; i < sp->login_count; i++)
        if (strcmp(sp->logins[i].account.login, username) == 0)
            return &sp->logins[i];
    return NULL;
}

static provider_result sandbox_login_fn(const provider *p, const char *username,
                                        const char *password, const provider_account **account)
{
    const sandbox_provider *sp = (const sandbox_provider *)p;
    const sandbox_login *l = username ? find_login(sp, username) : NULL;
    if (!l || !password || strcmp(password, SANDBOX_PASSWORD) != 0)
        return PROVIDER_BAD_CREDENTIALS;
    *account = &l->account;
    return PROVIDER_OK;
}

static provider_result sandbox_set_locked(const provider *p, const char *login,
                                          const char *device_key, bool locked)
{
    (void)locked;
    const sandbox_provider *sp = (const sandbox_provider *)p;
    const sandbox_login *l = login ? find_login(sp, login) : NULL;
    if (!l)
        return PROVIDER_BAD_CREDENTIALS;
    for (size_t i = 0; i < l->account.device_count; i++) {
        const provider_device *d = &l->account.devices[i];
        if (strcmp(d->key, device_key) != 0)
            continue;
        if (d->locked < 0 || !d->can_remotely_lock)
            return PROVIDER_NOT_SUPPORTED;
        return d->online ? PROVIDER_OK : PROVIDER_DEVICE_OFFLINE;
    }
    return PROVIDER_NOT_SUPPORTED;
}

#define SANDBOX(name_, display_, category_, type_, logins_)                                \
    {.base = {.name = name_, .display_name = display_, .manufacturer = name_,               \
              .category = category_, .device_type = type_, .sandbox_logins = SANDBOX_LOGINS, \
              .login = sandbox_login_fn, .set_locked = sandbox_set_locked},                 \
     .logins = logins_,                                                                     \
     .login_count = sizeof logins_ / sizeof *logins_}

static const sandbox_provider SANDBOX_PROVIDERS[] = {
    SANDBOX("august", "August", DEVICE_LOCK, "august_lock", LOCK_LOGINS),
    SANDBOX("schlage", "Schlage", DEVICE_LOCK, "schlage_lock", LOCK_LOGINS),
    SANDBOX("yale", "Yale", DEVICE_LOCK, "yale_lock", LOCK_LOGINS),
    SANDBOX("nuki", "Nuki", DEVICE_LOCK, "nuki_lock", LOCK_LOGINS),
    SANDBOX("ecobee", "ecobee", DEVICE_THERMOSTAT, "ecobee_thermostat", THERMOSTAT_LOGINS),
};

const provider *const sandbox_providers[] = {
    &SANDBOX_PROVIDERS[0].base, &SANDBOX_PROVIDERS[1].base, &SANDBOX_PROVIDERS[2].base,
    &SANDBOX_PROVIDERS[3].base, &SANDBOX_PROVIDERS[4].base, NULL,
};
_Static_assert(sizeof sandbox_providers / sizeof *sandbox_providers ==
                   sizeof SANDBOX_PROVIDERS / sizeof *SANDBOX_PROVIDERS + 1,
               "every sandbox provider is listed");
