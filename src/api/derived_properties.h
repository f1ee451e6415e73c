/* What the API shows of a device's properties beyond what its provider
 * reported and latchkey stored: every temperature in both units, the HVAC
 * modes a thermostat offers, a Minut sensor's noise level as its latest
 * sound reading (where Seam puts it, and Seam Components read it). */
#ifndef LATCHKEY_DERIVED_PROPERTIES_H
#define LATCHKEY_DERIVED_PROPERTIES_H

#include <jansson.h>

#include "core/device_types.h"

/* Adds to properties (the device's, as rendered) what it lacks of the
 * above; never replaces what is there. */
void derived_properties_add(json_t *properties, device_category cat, const char *device_type);

#endif
