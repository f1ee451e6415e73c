/* What a sandbox ecobee thermostat reports of itself (the sandbox
 * provider's and the --seed fixture's): the modes it takes and the set
 * points it allows (ecobee's: heating 45-79 °F, cooling 65-92 °F, at least
 * 5 °F between them), as members of a JSON object, each followed by a
 * comma. */
#ifndef LATCHKEY_PROVIDERS_SANDBOX_THERMOSTAT_H
#define LATCHKEY_PROVIDERS_SANDBOX_THERMOSTAT_H

#define SANDBOX_THERMOSTAT_REPORTS                                                         \
    "\"is_cooling_available\":true,\"is_heating_available\":true,"                          \
    "\"available_hvac_mode_settings\":[\"off\",\"heat\",\"cool\",\"heat_cool\"],"          \
    "\"available_fan_mode_settings\":[\"auto\",\"on\",\"circulate\"],"                      \
    "\"min_heating_set_point_celsius\":7.22,\"min_heating_set_point_fahrenheit\":45,"      \
    "\"max_heating_set_point_celsius\":26.11,\"max_heating_set_point_fahrenheit\":79,"     \
    "\"min_cooling_set_point_celsius\":18.33,\"min_cooling_set_point_fahrenheit\":65,"     \
    "\"max_cooling_set_point_celsius\":33.33,\"max_cooling_set_point_fahrenheit\":92,"     \
    "\"min_heating_cooling_delta_celsius\":2.78,\"min_heating_cooling_delta_fahrenheit\":5," \
    "\"is_temporary_manual_override_active\":false,\"fallback_climate_preset_key\":null,"

#endif
