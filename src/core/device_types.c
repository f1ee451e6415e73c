/* Device type catalogue (device_types.h), following the OpenAPI enums. */
#include "core/device_types.h"

#include <string.h>

static const struct {
    const char *type;
    device_category category;
} TYPES[] = {
    {"akuvox_lock", DEVICE_LOCK},        {"august_lock", DEVICE_LOCK},
    {"brivo_access_point", DEVICE_LOCK}, {"butterflymx_panel", DEVICE_LOCK},
    {"avigilon_alta_entry", DEVICE_LOCK}, {"doorking_lock", DEVICE_LOCK},
    {"genie_door", DEVICE_LOCK},         {"igloo_lock", DEVICE_LOCK},
    {"linear_lock", DEVICE_LOCK},        {"lockly_lock", DEVICE_LOCK},
    {"kwikset_lock", DEVICE_LOCK},       {"nuki_lock", DEVICE_LOCK},
    {"salto_lock", DEVICE_LOCK},         {"schlage_lock", DEVICE_LOCK},
    {"seam_relay", DEVICE_LOCK},         {"smartthings_lock", DEVICE_LOCK},
    {"wyze_lock", DEVICE_LOCK},          {"yale_lock", DEVICE_LOCK},
    {"two_n_intercom", DEVICE_LOCK},     {"controlbyweb_device", DEVICE_LOCK},
    {"ttlock_lock", DEVICE_LOCK},        {"igloohome_lock", DEVICE_LOCK},
    {"hubitat_lock", DEVICE_LOCK},       {"four_suites_door", DEVICE_LOCK},
    {"dormakaba_oracode_door", DEVICE_LOCK}, {"tedee_lock", DEVICE_LOCK},
    {"akiles_lock", DEVICE_LOCK},        {"ultraloq_lock", DEVICE_LOCK},
    {"korelock_lock", DEVICE_LOCK},      {"keynest_key", DEVICE_KEY},
    {"noiseaware_activity_zone", DEVICE_NOISE_SENSOR}, {"minut_sensor", DEVICE_NOISE_SENSOR},
    {"ecobee_thermostat", DEVICE_THERMOSTAT}, {"nest_thermostat", DEVICE_THERMOSTAT},
    {"honeywell_resideo_thermostat", DEVICE_THERMOSTAT}, {"tado_thermostat", DEVICE_THERMOSTAT},
    {"sensi_thermostat", DEVICE_THERMOSTAT}, {"smartthings_thermostat", DEVICE_THERMOSTAT},
    {"ios_phone", DEVICE_PHONE},         {"android_phone", DEVICE_PHONE},
};

device_category device_type_category(const char *device_type)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
        if (strcmp(TYPES[i].type, device_type) == 0)
            return TYPES[i].category;
    return DEVICE_UNKNOWN;
}

size_t device_types_count(void) { return sizeof TYPES / sizeof *TYPES; }

const char *device_type_at(size_t i) { return TYPES[i].type; }

bool device_type_is_known(const char *device_type)
{
    return device_type_category(device_type) != DEVICE_UNKNOWN;
}

static const struct {
    const char *manufacturer, *display_name;
} MANUFACTURERS[] = {
    {"august", "August"}, {"schlage", "Schlage"}, {"yale", "Yale"},     {"nuki", "Nuki"},
    {"ecobee", "ecobee"}, {"minut", "Minut"},     {"kwikset", "Kwikset"}, {"igloohome", "igloohome"},
    {"zigbee2mqtt", "Zigbee2MQTT"}, {"home_assistant", "Home Assistant"}, {"ultraloq", "Ultraloq"},
};

const char *manufacturer_display_name(const char *manufacturer)
{
    for (size_t i = 0; i < sizeof MANUFACTURERS / sizeof *MANUFACTURERS; i++)
        if (strcmp(MANUFACTURERS[i].manufacturer, manufacturer) == 0)
            return MANUFACTURERS[i].display_name;
    return manufacturer;
}
