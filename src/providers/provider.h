/* The provider interface: how latchkey reaches a lock vendor. A sandbox
 * provider (sandbox.c) logs in with a user's credentials (yielding the
 * account and its devices) and acts on a device at once; a live provider
 * (live.h: zigbee2mqtt.c) keeps a connection per account, run by the links
 * job (jobs/links.h). registry.c lists them all. */
#ifndef LATCHKEY_PROVIDER_H
#define LATCHKEY_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/device_types.h"

/* A device as the provider reports it. */
typedef struct provider_device {
    const char *key;          /* the provider's id for it, stable across logins */
    const char *name;
    const char *model;
    bool online;
    int locked;               /* -1 not a lock, or not known yet */
    double battery_level;     /* < 0 unknown */
    bool can_remotely_lock;
    bool can_remotely_unlock;
    const char *extra_properties; /* serialized object of type-specific properties, or NULL */
    const char *device_type;  /* NULL: the provider's */
    const char *manufacturer; /* NULL: the provider's */
} provider_device;

typedef struct provider_account {
    const char *login;        /* the user's login at the provider (an email) */
    const provider_device *devices;
    size_t device_count;
} provider_account;

typedef enum provider_result {
    PROVIDER_OK,
    PROVIDER_BAD_CREDENTIALS,
    PROVIDER_DEVICE_OFFLINE,
    PROVIDER_NOT_SUPPORTED,
} provider_result;

typedef struct provider provider;
typedef struct live_ops live_ops;

struct provider {
    const char *name;          /* "august": the API's provider and account_type */
    const char *display_name;  /* "August" */
    const char *manufacturer;  /* what its devices report as manufacturer */
    device_category category;  /* DEVICE_LOCK or DEVICE_THERMOSTAT */
    const char *device_type;   /* the Seam device_type of its devices */
    /* Sandbox logins to show on the login page; NULL for a real vendor. */
    const char *const *sandbox_logins;
    /* A live provider's operations; NULL for a sandbox one, which has
     * login and set_locked instead. */
    const live_ops *live;
    provider_result (*login)(const provider *p, const char *username, const char *password,
                             const provider_account **account);
    /* Locks (locked = true) or unlocks the device with this key. */
    provider_result (*set_locked)(const provider *p, const char *login, const char *device_key,
                                  bool locked);
};

/* Seam's provider categories (devices/list_device_providers): whether the
 * name is one, and whether p is in it (the live providers are in none of
 * Seam's catalogue). */
bool provider_category_known(const char *category);
bool provider_in_category(const provider *p, const char *category);

/* The sandbox providers, NULL-terminated (sandbox.c). */
extern const provider *const sandbox_providers[];

/* Every provider latchkey has, in the order a picker shows them. */
const provider *const *providers_all(size_t *count);
const provider *provider_find(const char *name);

#endif
