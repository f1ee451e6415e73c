/* Accepted device capabilities (capabilities.h). */
#include "api/capabilities.h"

#include <string.h>

static const char *const CAPABILITIES[] = {"lock", "thermostat", "noise_sensor", "access_control",
                                           "camera"};
enum { COUNT = sizeof CAPABILITIES / sizeof *CAPABILITIES };

const char *capability_of(const provider *p)
{
    return p->category == DEVICE_THERMOSTAT ? "thermostat" : "lock";
}

const char *capabilities_read(api_call *c, const char *key)
{
    str_list given;
    if (!param_str_list(c->p, key, &given))
        return NULL;
    if (given.count == 0)
        param_reject(c->p, key, "Name at least one capability");
    const char *list = "";
    for (size_t i = 0; i < given.count; i++) {
        bool known = false;
        for (size_t j = 0; j < COUNT && !known; j++)
            known = strcmp(given.items[i], CAPABILITIES[j]) == 0;
        if (!known)
            param_reject(c->p, key, arena_sprintf(c->a, "Unknown capability '%s'", given.items[i]));
        else if (!comma_list_has(list, given.items[i]))
            list = arena_sprintf(c->a, "%s%s%s", list, *list ? "," : "", given.items[i]);
    }
    return list;
}

bool capabilities_hold(const char *stored, const char *capability)
{
    return !stored || comma_list_has(stored, capability);
}

json_t *capabilities_render(const char *stored, const char *providers)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < COUNT; i++) {
        bool in = stored != NULL && comma_list_has(stored, CAPABILITIES[i]);
        if (!stored) {
            size_t n;
            const provider *const *all = providers_all(&n);
            for (size_t j = 0; j < n && !in; j++)
                in = comma_list_has(providers, all[j]->name) &&
                     strcmp(capability_of(all[j]), CAPABILITIES[i]) == 0;
        }
        if (in)
            json_array_append_new(arr, json_string(CAPABILITIES[i]));
    }
    return arr;
}
