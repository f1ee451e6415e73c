/* thermostats/get and thermostats/list: devices of the thermostat types,
 * scoped as devices are. */
#include "api/devices.h"

err thermostats_get(api_call *c) { return get_device_of(c, DEVICE_THERMOSTAT, "thermostat"); }

err thermostats_list(api_call *c) { return list_devices_of(c, DEVICE_THERMOSTAT, "thermostats"); }
