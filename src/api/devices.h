/* What devices.c shares with locks.c: listing devices with every filter,
 * narrowed to a set of device types. */
#ifndef LATCHKEY_API_DEVICES_H
#define LATCHKEY_API_DEVICES_H

#include "api/handler.h"

/* Lists devices under `key` ("devices", "locks"); types_within: NULL or
 * the only device types to include. */
err list_devices(api_call *c, const char *key, const str_list *types_within);

#endif
