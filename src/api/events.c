/* events/get and events/list, scoped: a client session sees the events of
 * its connected accounts and their devices. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/render.h"
#include "core/timeutil.h"

enum { EVENTS_DEFAULT_LIMIT = 500, EVENTS_MAX_LIMIT = 10000 };

/* The event types of the Seam API (the OpenAPI's event schemas), sorted:
 * filtering by any of them is valid, even those latchkey never records. */
static const char *const EVENT_TYPES[] = {
    "access_code.backup_access_code_pulled", "access_code.changed", "access_code.code_changed",
    "access_code.created", "access_code.delay_in_removing_from_device",
    "access_code.delay_in_setting_on_device", "access_code.deleted",
    "access_code.deleted_external_to_seam", "access_code.failed_to_remove_from_device",
    "access_code.failed_to_set_on_device", "access_code.modified_external_to_seam",
    "access_code.mutations_requested", "access_code.name_changed",
    "access_code.removed_from_device", "access_code.scheduled_on_device",
    "access_code.set_on_device", "access_code.time_frame_changed",
    "access_code.unmanaged.converted_to_managed", "access_code.unmanaged.created",
    "access_code.unmanaged.failed_to_convert_to_managed", "access_code.unmanaged.removed",
    "access_grant.access_granted_to_all_doors", "access_grant.access_granted_to_door",
    "access_grant.access_times_changed", "access_grant.access_to_door_lost",
    "access_grant.could_not_create_requested_access_methods", "access_grant.created",
    "access_grant.deleted", "access_method.card_encoding_required", "access_method.created",
    "access_method.delay_in_issuing", "access_method.deleted", "access_method.failed_to_issue",
    "access_method.issued", "access_method.reissued", "access_method.revoked",
    "acs_access_group.deleted", "acs_credential.deleted", "acs_credential.invalidated",
    "acs_credential.issued", "acs_credential.reissued", "acs_encoder.added",
    "acs_encoder.removed", "acs_entrance.added", "acs_entrance.removed", "acs_system.added",
    "acs_system.connected", "acs_system.disconnected", "acs_user.created", "acs_user.deleted",
    "action_attempt.lock_door.failed", "action_attempt.lock_door.succeeded",
    "action_attempt.simulate_keypad_code_entry.failed",
    "action_attempt.simulate_keypad_code_entry.succeeded",
    "action_attempt.simulate_manual_lock_via_keypad.failed",
    "action_attempt.simulate_manual_lock_via_keypad.succeeded",
    "action_attempt.unlock_door.failed", "action_attempt.unlock_door.succeeded",
    "camera.activated", "client_session.deleted", "connect_webview.login_failed",
    "connect_webview.login_succeeded", "connected_account.completed_first_sync",
    "connected_account.completed_first_sync_after_reconnection", "connected_account.connected",
    "connected_account.created", "connected_account.deleted", "connected_account.disconnected",
    "connected_account.reauthorization_requested", "connected_account.successful_login",
    "device.accessory_keypad_connected", "device.accessory_keypad_disconnected", "device.added",
    "device.battery_status_changed", "device.connected", "device.connection_became_flaky",
    "device.connection_stabilized", "device.converted_to_unmanaged", "device.deleted",
    "device.disconnected", "device.doorbell_rang", "device.error.subscription_required",
    "device.error.subscription_required.resolved", "device.low_battery", "device.name_changed",
    "device.removed", "device.salto.privacy_mode_activated",
    "device.salto.privacy_mode_deactivated", "device.tampered",
    "device.third_party_integration_detected",
    "device.third_party_integration_no_longer_detected", "device.unmanaged.connected",
    "device.unmanaged.converted_to_managed", "device.unmanaged.disconnected",
    "enrollment_automation.deleted", "lock.access_denied", "lock.locked", "lock.unlocked",
    "noise_sensor.noise_threshold_triggered", "phone.deactivated", "space.created",
    "space.deleted", "space.device_membership_changed", "thermostat.climate_preset_activated",
    "thermostat.manually_adjusted", "thermostat.temperature_changed",
    "thermostat.temperature_reached_set_point", "thermostat.temperature_threshold_exceeded",
    "thermostat.temperature_threshold_no_longer_exceeded",
};

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_event_type(api_call *c, const char *key, const char *type)
{
    if (!bsearch(&type, EVENT_TYPES, sizeof EVENT_TYPES / sizeof *EVENT_TYPES,
                 sizeof *EVENT_TYPES, compare_str))
        param_reject(c->p, key, arena_sprintf(c->a, "Unknown event type '%s'", type));
}

/* By event_id, or the newest event of device_id and/or event_type. */
err events_get(api_call *c)
{
    const char *id = NULL, *device_id = NULL, *type = NULL;
    param_nonempty_str(c->p, "event_id", &id);
    param_nonempty_str(c->p, "device_id", &device_id);
    if (param_nonempty_str(c->p, "event_type", &type))
        check_event_type(c, "event_type", type);
    if (!id && !device_id && !type)
        param_reject(c->p, "event_id", "Required: event_id, device_id or event_type");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_event ev;
    if (id) {
        e = store_event_get(c->srv->store, c->a, &scope, id, &ev);
    } else {
        store_event_filter f = {.device_ids = device_id ? &(str_list){&device_id, 1} : NULL,
                                .event_types = type ? &(str_list){&type, 1} : NULL,
                                .newest_first = true};
        store_event *rows = NULL;
        size_t n = 0;
        e = store_event_list(c->srv->store, c->a, &scope, &f, &(store_page){0, 1}, &rows, &n);
        if (!err_failed(e) && n == 0)
            e = (err){ERR_NOT_FOUND, "event_not_found", "Event not found."};
        if (!err_failed(e))
            ev = rows[0];
    }
    if (err_failed(e))
        return e;
    c->out = json_pack("{s:o}", "event", render_event(&ev));
    return ERR_NONE;
}

/* Filters of events/list on what latchkey does not have (access control
 * systems, access grants and methods, spaces, user identities' events):
 * accepted, and matching no event. */
static const char *const ABSENT_FILTERS[] = {
    "access_grant_id", "access_grant_ids",
    "access_method_id", "access_method_ids", "acs_access_group_id", "acs_credential_id",
    "acs_encoder_id", "acs_entrance_id", "acs_system_id", "acs_system_ids", "acs_user_id",
    "space_id", "space_ids", "user_identity_id", NULL,
};

typedef void (*value_check)(api_call *c, const char *key, const char *value);

/* A filter given as `single` and/or `plural` (see filter_values); check
 * (if any) vets each value under the name it came with. */
static const str_list *one_or_many(api_call *c, const char *single, const char *plural,
                                   str_list *storage, value_check check)
{
    const char *one = NULL;
    bool many = param_str_list(c->p, plural, storage);
    param_nonempty_str(c->p, single, &one);
    for (size_t i = 0; check && many && i < storage->count; i++)
        check(c, plural, storage->items[i]);
    if (check && one)
        check(c, single, one);
    return filter_values(c->a, one, many ? storage : NULL);
}

err events_list(api_call *c)
{
    store_event_filter f = {0};
    str_list devices, types, between, codes;
    f.device_ids = one_or_many(c, "device_id", "device_ids", &devices, NULL);
    f.access_code_ids = one_or_many(c, "access_code_id", "access_code_ids", &codes, NULL);
    f.event_types = one_or_many(c, "event_type", "event_types", &types, check_event_type);
    param_nonempty_str(c->p, "connected_account_id", &f.connected_account_id);
    param_nonempty_str(c->p, "connect_webview_id", &f.connect_webview_id);
    param_time(c->p, "since", &f.since);
    if (param_str_list(c->p, "between", &between)) {
        int64_t from = 0, to = 0;
        if (between.count != 2 || !time_parse_iso8601(between.items[0], &from) ||
            !time_parse_iso8601(between.items[1], &to))
            param_reject(c->p, "between", "Two ISO 8601 date-times: [from, to]");
        else if (from > to)
            param_reject(c->p, "between", "The first date-time must not be after the second");
        else {
            /* The interval is exclusive; with since too, both must hold. */
            if (from + 1 > f.since)
                f.since = from + 1;
            f.until = to - 1;
        }
    }
    if (!f.since && !f.until && !param_present(c->p, "since") && !param_present(c->p, "between"))
        param_reject(c->p, "since", "Required: since or between");
    int64_t limit = EVENTS_DEFAULT_LIMIT;
    param_int(c->p, "limit", 1, EVENTS_MAX_LIMIT, &limit);
    str_list ids;
    if (param_str_list(c->p, "event_ids", &ids))
        f.event_ids = &ids;
    param_int(c->p, "unstable_offset", 0, INT32_MAX, &f.offset);
    param_str(c->p, "customer_key", &f.customer_key);
    bool nothing = param_names_absent_resource(c->p, ABSENT_FILTERS);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_page page = {.after_seq = 0, .limit = (size_t)limit};
    store_event *rows = NULL;
    size_t n = 0;
    if (!nothing)
        e = store_event_list(c->srv->store, c->a, &scope, &f, &page, &rows, &n);
    if (err_failed(e))
        return e;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_event(&rows[i]));
    c->out = json_pack("{s:o}", "events", arr);
    return ERR_NONE;
}
