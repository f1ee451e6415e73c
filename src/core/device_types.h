/* The device types latchkey knows, as the Seam API names them, and the
 * category each belongs to (what capabilities and properties it has). */
#ifndef LATCHKEY_DEVICE_TYPES_H
#define LATCHKEY_DEVICE_TYPES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum device_category {
    DEVICE_UNKNOWN = 0,
    DEVICE_LOCK,
    DEVICE_THERMOSTAT,
    DEVICE_NOISE_SENSOR,
    DEVICE_KEY,
    DEVICE_PHONE,
} device_category;

device_category device_type_category(const char *device_type);
bool device_type_is_known(const char *device_type);
/* The catalogue, by index. */
size_t device_types_count(void);
const char *device_type_at(size_t i);
/* "August" for "august"; the identifier itself when unknown. */
const char *manufacturer_display_name(const char *manufacturer);

#endif
