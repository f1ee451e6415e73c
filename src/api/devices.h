/* What devices.c shares with locks.c: listing devices with every filter,
 * narrowed to a set of device types. */
#ifndef LATCHKEY_API_DEVICES_H
#define LATCHKEY_API_DEVICES_H

#include "api/handler.h"
#include "core/device_types.h"

/* Lists devices under `key` ("devices", "locks"); types_within: NULL or
 * the only device types to include. */
err list_devices(api_call *c, const char *key, const str_list *types_within);

/* A device in scope of the category (locks, thermostats), or 404. */
err find_device_of(api_call *c, device_category category, const char *device_id,
                   const char *name, store_device *d);
/* <category>/get: by device_id or name, answered as {key: device}. */
err get_device_of(api_call *c, device_category category, const char *key);
/* <category>/list: devices/list of the category's types, answered under
 * key and under "devices" as well. */
err list_devices_of(api_call *c, device_category category, const char *key);

#endif
