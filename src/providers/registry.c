/* Every provider latchkey has (provider.h): the sandbox ones, then the live
 * ones, in the order the connect webview's picker shows them. */
#include <pthread.h>
#include <string.h>

#include "providers/live.h"
#include "providers/provider.h"

enum { MAX_PROVIDERS = 16 };

static const provider *const LIVE[] = {&zigbee2mqtt_provider, &home_assistant_provider};

static const provider *all[MAX_PROVIDERS];
static size_t all_count;
static pthread_once_t listed = PTHREAD_ONCE_INIT;

static void list_all(void)
{
    for (const provider *const *p = sandbox_providers; *p && all_count < MAX_PROVIDERS; p++)
        all[all_count++] = *p;
    for (size_t i = 0; i < sizeof LIVE / sizeof *LIVE && all_count < MAX_PROVIDERS; i++)
        all[all_count++] = LIVE[i];
}

const provider *const *providers_all(size_t *count)
{
    pthread_once(&listed, list_all);
    *count = all_count;
    return all;
}

const provider *provider_find(const char *name)
{
    size_t n;
    const provider *const *list = providers_all(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i]->name, name) == 0)
            return list[i];
    return NULL;
}

static const char *const CATEGORIES[] = {"stable",      "consumer_smartlocks", "beta",
                                         "thermostats", "noise_sensors",
                                         "access_control_systems", "cameras", "connectors",
                                         "internal_beta"};

bool provider_category_known(const char *category)
{
    for (size_t i = 0; i < sizeof CATEGORIES / sizeof *CATEGORIES; i++)
        if (strcmp(category, CATEGORIES[i]) == 0)
            return true;
    return false;
}

bool provider_in_category(const provider *p, const char *category)
{
    if (p->live)
        return false;
    if (strcmp(category, "stable") == 0)
        return true;
    if (strcmp(category, "consumer_smartlocks") == 0)
        return p->category == DEVICE_LOCK;
    if (strcmp(category, "thermostats") == 0)
        return p->category == DEVICE_THERMOSTAT;
    return false;
}
