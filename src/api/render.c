/* Rendering of workspaces, client sessions and devices (render.h). */
#include "providers/provider.h"
#include "api/render.h"

#include <stdio.h>
#include <string.h>

#include "api/capabilities.h"
#include "api/derived_properties.h"
#include "core/code_rules.h"
#include "core/device_types.h"
#include "core/timeutil.h"

json_t *render_time(int64_t ms)
{
    char buf[ISO8601_LEN];
    time_format_iso8601(ms, buf);
    return json_string(buf);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *render_list(const str_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->count; i++)
        json_array_append_new(arr, json_string(l->items[i]));
    return arr;
}

json_t *render_workspace(const store_workspace *w)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:s,s:{},s:n}", "workspace_id",
                     w->workspace_id, "name", w->name, "company_name", w->company_name,
                     "connect_partner_name", w->company_name, "is_sandbox", w->is_sandbox,
                     "is_suspended", 0, "is_publishable_key_auth_enabled", 1, "publishable_key",
                     w->publishable_key, "connect_webview_customization", "organization_id");
}

json_t *render_client_session(const store_client_session *cs, const char *token)
{
    json_t *o = json_object();
    json_object_set_new(o, "client_session_id", json_string(cs->client_session_id));
    json_object_set_new(o, "workspace_id", json_string(cs->workspace_id));
    json_object_set_new(o, "token", json_string(token));
    json_object_set_new(o, "user_identifier_key", str_or_null(cs->user_identifier_key));
    json_object_set_new(o, "created_at", render_time(cs->created_at));
    json_object_set_new(o, "expires_at", render_time(cs->expires_at));
    json_object_set_new(o, "device_count", json_integer(cs->device_count));
    json_object_set_new(o, "connected_account_ids", render_list(&cs->connected_account_ids));
    json_object_set_new(o, "connect_webview_ids", render_list(&cs->connect_webview_ids));
    json_t *identities = json_array();
    if (cs->user_identity_id) {
        json_object_set_new(o, "user_identity_id", json_string(cs->user_identity_id));
        json_array_append_new(identities, json_string(cs->user_identity_id));
    }
    json_object_set_new(o, "user_identity_ids", identities);
    if (cs->customer_key)
        json_object_set_new(o, "customer_key", json_string(cs->customer_key));
    return o;
}

json_t *render_stored_object(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

static json_t *capabilities(device_category cat, bool has_battery, bool takes_codes)
{
    json_t *caps = json_array();
    if (takes_codes)
        json_array_append_new(caps, json_string("access_code"));
    switch (cat) {
    case DEVICE_LOCK:
        json_array_append_new(caps, json_string("lock"));
        break;
    case DEVICE_THERMOSTAT:
        json_array_append_new(caps, json_string("thermostat"));
        break;
    case DEVICE_NOISE_SENSOR:
        json_array_append_new(caps, json_string("noise_detection"));
        break;
    case DEVICE_PHONE:
        json_array_append_new(caps, json_string("phone"));
        break;
    case DEVICE_KEY:
    case DEVICE_UNKNOWN:
        break;
    }
    if (has_battery)
        json_array_append_new(caps, json_string("battery"));
    return caps;
}

static json_t *device_model(const store_device *d)
{
    const char *maker = d->manufacturer ? manufacturer_display_name(d->manufacturer) : "Unknown";
    return json_pack("{s:s,s:s}", "display_name", d->model ? d->model : d->name,
                     "manufacturer_display_name", maker);
}

static json_t *device_properties(const store_device *d, device_category cat)
{
    json_t *p = render_stored_object(d->extra_properties);
    json_object_set_new(p, "online", json_boolean(d->online));
    json_object_set_new(p, "name", json_string(d->name));
    json_object_set_new(p, "appearance", json_pack("{s:s}", "name", d->name));
    if (d->manufacturer)
        json_object_set_new(p, "manufacturer", json_string(d->manufacturer));
    json_object_set_new(p, "model", device_model(d));
    if (cat == DEVICE_LOCK && d->locked >= 0) {
        json_object_set_new(p, "locked", json_boolean(d->locked));
        json_object_set_new(p, "door_open", json_false());
    }
    if (d->battery_level >= 0) {
        const char *status = d->battery_level > 0.6   ? "full"
                             : d->battery_level > 0.3 ? "good"
                             : d->battery_level > 0.1 ? "low"
                                                      : "critical";
        json_object_set_new(p, "battery_level", json_real(d->battery_level));
        json_object_set_new(p, "battery", json_pack("{s:f,s:s}", "level", d->battery_level,
                                                    "status", status));
    }
    derived_properties_add(p, cat, d->device_type);
    return p;
}

/* What is wrong with the device (it is offline), as its errors and those
 * of the access codes on it show it. */
static json_t *device_errors(const store_device *d)
{
    json_t *errors = json_array();
    if (!d->online)
        json_array_append_new(errors, json_pack("{s:s,s:s,s:b,s:o}", "error_code", "device_offline",
                                                "message", "The device is offline.",
                                                "is_device_error", 1, "created_at",
                                                render_time(d->offline_at ? d->offline_at
                                                                          : d->created_at)));
    return errors;
}

static bool takes_codes(const store_device *d, device_category cat)
{
    return cat == DEVICE_LOCK && code_rules_of(d->extra_properties).supported;
}

/* What a managed and an unmanaged device both show. */
static json_t *device_common(const store_device *d, device_category cat)
{
    json_t *o = json_object();
    json_object_set_new(o, "device_id", json_string(d->device_id));
    json_object_set_new(o, "device_type", json_string(d->device_type));
    json_object_set_new(o, "workspace_id", json_string(d->workspace_id));
    json_object_set_new(o, "connected_account_id", json_string(d->connected_account_id));
    json_object_set_new(o, "created_at", render_time(d->created_at));
    json_object_set_new(o, "capabilities_supported",
                        capabilities(cat, d->battery_level >= 0, takes_codes(d, cat)));
    json_object_set_new(o, "errors", device_errors(d));
    json_object_set_new(o, "warnings", json_array());
    json_object_set_new(o, "is_managed", json_boolean(d->is_managed));
    json_object_set_new(o, "custom_metadata", render_stored_object(d->custom_metadata));
    return o;
}

json_t *render_device(const store_device *d)
{
    device_category cat = device_type_category(d->device_type);
    json_t *o = device_common(d, cat);
    json_object_set_new(o, "display_name", json_string(d->nickname ? d->nickname : d->name));
    if (d->nickname)
        json_object_set_new(o, "nickname", json_string(d->nickname));
    json_object_set_new(o, "space_ids", json_array());
    json_object_set_new(o, "properties", device_properties(d, cat));
    if (cat == DEVICE_LOCK) {
        bool codes = takes_codes(d, cat);
        json_object_set_new(o, "can_remotely_lock", json_boolean(d->can_remotely_lock));
        json_object_set_new(o, "can_remotely_unlock", json_boolean(d->can_remotely_unlock));
        json_object_set_new(o, "can_program_online_access_codes", json_boolean(codes));
        json_object_set_new(o, "can_program_offline_access_codes", json_false());
    }
    return o;
}

json_t *render_unmanaged_device(const store_device *d)
{
    json_t *o = device_common(d, device_type_category(d->device_type));
    json_object_set_new(o, "properties", json_pack("{s:s,s:b,s:o}", "name", d->name, "online",
                                                   d->online, "model", device_model(d)));
    return o;
}

static json_t *time_or_null(int64_t ms) { return ms ? render_time(ms) : json_null(); }

json_t *render_connected_account(const store_connected_account *ca, const provider *p)
{
    const char *type_name = p ? p->display_name : ca->provider;
    /* A live account's login is the address it reaches (no secret). */
    const char *api_url = ca->settings_sealed ? ca->provider_login : NULL;
    const char *display = ca->display_name ? ca->display_name
                          : ca->user_email ? ca->user_email
                          : api_url        ? api_url
                                           : type_name;
    json_t *o = json_object();
    json_object_set_new(o, "connected_account_id", json_string(ca->connected_account_id));
    json_object_set_new(o, "created_at", render_time(ca->created_at));
    json_object_set_new(o, "account_type", json_string(ca->provider));
    json_object_set_new(o, "account_type_display_name", json_string(type_name));
    json_object_set_new(o, "display_name", json_string(display));
    if (ca->user_email)
        json_object_set_new(o, "user_identifier", json_pack("{s:s}", "email", ca->user_email));
    else if (api_url)
        json_object_set_new(o, "user_identifier", json_pack("{s:s}", "api_url", api_url));
    json_t *errors = json_array();
    if (ca->error_code)
        json_array_append_new(errors, json_pack("{s:s,s:s,s:b,s:o}", "error_code", ca->error_code,
                                                "message", ca->error_message ? ca->error_message : "",
                                                "is_connected_account_error", 1, "created_at",
                                                render_time(ca->error_at)));
    json_object_set_new(o, "errors", errors);
    json_object_set_new(o, "warnings", json_array());
    json_object_set_new(o, "custom_metadata", render_stored_object(ca->custom_metadata));
    json_object_set_new(o, "automatically_manage_new_devices", json_true());
    if (ca->customer_key)
        json_object_set_new(o, "customer_key", json_string(ca->customer_key));
    json_object_set_new(o, "accepted_capabilities",
                        capabilities_render(ca->accepted_capabilities, ca->provider));
    return o;
}

json_t *render_connect_webview(const store_connect_webview *cw, const char *url)
{
    json_t *providers = json_array();
    const char *list = cw->accepted_providers ? cw->accepted_providers : "";
    while (*list) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        json_array_append_new(providers, json_stringn(list, n));
        list += n + (comma != NULL);
    }
    json_t *o = json_object();
    json_object_set_new(o, "connect_webview_id", json_string(cw->connect_webview_id));
    json_object_set_new(o, "workspace_id", json_string(cw->workspace_id));
    json_object_set_new(o, "created_at", render_time(cw->created_at));
    json_object_set_new(o, "connected_account_id", str_or_null(cw->connected_account_id));
    json_object_set_new(o, "url", json_string(url));
    json_object_set_new(o, "device_selection_mode", json_string(cw->device_selection_mode));
    json_object_set_new(o, "accepted_providers", providers);
    json_object_set_new(o, "accepted_capabilities",
                        capabilities_render(cw->accepted_capabilities, cw->accepted_providers));
    json_object_set_new(o, "accepted_devices", json_array());
    json_object_set_new(o, "any_device_allowed", json_true());
    json_object_set_new(o, "any_provider_allowed", json_false());
    json_object_set_new(o, "login_successful", json_boolean(cw->login_successful));
    json_object_set_new(o, "status", json_string(cw->status));
    json_object_set_new(o, "custom_redirect_url", str_or_null(cw->custom_redirect_url));
    json_object_set_new(o, "custom_redirect_failure_url", str_or_null(cw->custom_redirect_failure_url));
    json_object_set_new(o, "custom_metadata", render_stored_object(cw->custom_metadata));
    json_object_set_new(o, "automatically_manage_new_devices", json_true());
    json_object_set_new(o, "wait_for_device_creation", json_false());
    json_object_set_new(o, "authorized_at", time_or_null(cw->authorized_at));
    json_object_set_new(o, "selected_provider", str_or_null(cw->selected_provider));
    if (cw->customer_key)
        json_object_set_new(o, "customer_key", json_string(cw->customer_key));
    return o;
}

json_t *render_action_attempt(const store_action_attempt *aa)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "action_attempt_id", aa->action_attempt_id,
                          "action_type", aa->action_type, "status",
                          strcmp(aa->status, "running") == 0 ? "pending" : aa->status);
    bool success = strcmp(aa->status, "success") == 0;
    bool failed = strcmp(aa->status, "error") == 0;
    json_object_set_new(o, "result", success ? json_pack("{s:b}", "was_confirmed_by_device", 1)
                                             : json_null());
    json_object_set_new(o, "error", failed ? json_pack("{s:s,s:s}", "type", aa->error_type,
                                                        "message", aa->error_message)
                                           : json_null());
    return o;
}

static json_t *issue(const char *code_key, const char *code, const char *message)
{
    return json_pack("{s:s,s:s}", code_key, code, "message", message);
}

static json_t *mutation(const char *code, const char *message, int64_t at)
{
    return json_pack("{s:s,s:s,s:o}", "mutation_code", code, "message", message, "created_at",
                     render_time(at));
}

json_t *render_access_code(const store_access_code *ac, const store_device *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "access_code_id", json_string(ac->access_code_id));
    json_object_set_new(o, "workspace_id", json_string(ac->workspace_id));
    json_object_set_new(o, "device_id", json_string(ac->device_id));
    json_object_set_new(o, "name", ac->name ? json_string(ac->name) : json_null());
    json_object_set_new(o, "code", json_string(ac->code));
    json_object_set_new(o, "created_at", render_time(ac->created_at));
    bool time_bound = ac->ends_at != 0;
    json_object_set_new(o, "type", json_string(time_bound ? "time_bound" : "ongoing"));
    if (time_bound) {
        json_object_set_new(o, "starts_at", render_time(ac->starts_at ? ac->starts_at : ac->created_at));
        json_object_set_new(o, "ends_at", render_time(ac->ends_at));
    }
    json_object_set_new(o, "status", json_string(ac->status));
    json_object_set_new(o, "is_managed", json_boolean(ac->is_managed));
    json_t *errors = device_errors(d);
    json_t *warnings = json_array();
    bool removing = strcmp(ac->status, "removing") == 0;
    if (ac->delayed_since)
        json_array_append_new(warnings,
                              removing ? issue("warning_code", "delay_in_removing_from_device",
                                               "The code could not be removed from the device yet.")
                                       : issue("warning_code", "delay_in_setting_on_device",
                                               "The code could not be set on the device yet."));
    if (ac->deleting)
        json_array_append_new(warnings, issue("warning_code", "being_deleted",
                                              "The code is being deleted."));
    json_object_set_new(o, "errors", errors);
    json_object_set_new(o, "warnings", warnings);
    if (!ac->is_managed)
        return o;
    json_object_set_new(o, "common_code_key",
                        ac->common_code_key ? json_string(ac->common_code_key) : json_null());
    json_object_set_new(o, "is_backup", json_boolean(ac->is_backup));
    json_object_set_new(o, "is_backup_access_code_available",
                        json_boolean(ac->use_backup_pool && !ac->pulled_backup_access_code_id));
    json_object_set_new(o, "pulled_backup_access_code_id",
                        ac->pulled_backup_access_code_id
                            ? json_string(ac->pulled_backup_access_code_id) : json_null());
    json_object_set_new(o, "is_external_modification_allowed",
                        json_boolean(ac->is_external_modification_allowed));
    json_object_set_new(o, "is_one_time_use", json_boolean(ac->is_one_time_use));
    json_object_set_new(o, "is_offline_access_code", json_boolean(ac->is_offline_access_code));
    json_object_set_new(o, "is_scheduled_on_device", json_false());
    json_object_set_new(o, "is_waiting_for_code_assignment", json_false());
    json_t *pending = json_array();
    if (ac->deleting)
        json_array_append_new(pending, mutation("deleting", "Removing the code from the device.",
                                                ac->created_at));
    else if (strcmp(ac->status, "unset") == 0 && ac->starts_at) {
        json_t *m = mutation("deferring_creation", "The code is set on the device when it starts.",
                             ac->created_at);
        json_object_set_new(m, "scheduled_at", render_time(ac->starts_at));
        json_array_append_new(pending, m);
    } else if (strcmp(ac->status, "setting") == 0)
        json_array_append_new(pending, mutation("creating", "Setting the code on the device.",
                                                ac->created_at));
    json_object_set_new(o, "pending_mutations", pending);
    return o;
}

json_t *render_event(const store_event *ev)
{
    json_t *o = json_object();
    json_object_set_new(o, "event_id", json_string(ev->event_id));
    json_object_set_new(o, "workspace_id", json_string(ev->workspace_id));
    json_object_set_new(o, "event_type", json_string(ev->event_type));
    json_object_set_new(o, "created_at", render_time(ev->created_at));
    json_object_set_new(o, "occurred_at", render_time(ev->created_at));
    const struct {
        const char *key, *value;
    } ids[] = {{"device_id", ev->device_id},
               {"connected_account_id", ev->connected_account_id},
               {"connect_webview_id", ev->connect_webview_id},
               {"client_session_id", ev->client_session_id},
               {"action_attempt_id", ev->action_attempt_id},
               {"access_code_id", ev->access_code_id}};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (ids[i].value)
            json_object_set_new(o, ids[i].key, json_string(ids[i].value));
    /* action_attempt.<action>.<succeeded|failed>: the attempt's type and status. */
    if (strncmp(ev->event_type, "action_attempt.", 15) == 0) {
        const char *action = ev->event_type + 15;
        bool lock = strncmp(action, "lock_door.", 10) == 0;
        bool ok = strstr(action, ".succeeded") != NULL;
        json_object_set_new(o, "action_type", json_string(lock ? "LOCK_DOOR" : "UNLOCK_DOOR"));
        json_object_set_new(o, "status", json_string(ok ? "success" : "error"));
    }
    if (strncmp(ev->event_type, "lock.", 5) == 0)
        json_object_set_new(o, "method", json_string(ev->method ? ev->method : "remote"));
    /* A device's disconnection (managed or not) says why, with the errors
     * and warnings of the device and its account. */
    bool device_gone = strcmp(ev->event_type, "device.disconnected") == 0 ||
                       strcmp(ev->event_type, "device.unmanaged.disconnected") == 0;
    if (device_gone) {
        json_object_set_new(o, "error_code", json_string("device_disconnected"));
        json_object_set_new(o, "device_errors", json_array());
        json_object_set_new(o, "device_warnings", json_array());
    }
    if (device_gone || strcmp(ev->event_type, "connected_account.disconnected") == 0) {
        json_object_set_new(o, "connected_account_errors", json_array());
        json_object_set_new(o, "connected_account_warnings", json_array());
    }
    /* The event's own fields (an access code's code, a backup's id...). */
    json_t *payload = ev->payload ? json_loads(ev->payload, 0, NULL) : NULL;
    if (json_is_object(payload))
        json_object_update(o, payload);
    json_decref(payload);
    return o;
}

json_t *render_user_identity(const store_user_identity *ui)
{
    const char *display = ui->full_name       ? ui->full_name
                          : ui->email_address ? ui->email_address
                          : ui->phone_number  ? ui->phone_number
                          : ui->user_identity_key ? ui->user_identity_key
                                                  : ui->user_identity_id;
    json_t *o = json_object();
    json_object_set_new(o, "user_identity_id", json_string(ui->user_identity_id));
    json_object_set_new(o, "workspace_id", json_string(ui->workspace_id));
    json_object_set_new(o, "user_identity_key", str_or_null(ui->user_identity_key));
    json_object_set_new(o, "email_address", str_or_null(ui->email_address));
    json_object_set_new(o, "phone_number", str_or_null(ui->phone_number));
    json_object_set_new(o, "full_name", str_or_null(ui->full_name));
    json_object_set_new(o, "display_name", json_string(display));
    json_object_set_new(o, "created_at", render_time(ui->created_at));
    json_object_set_new(o, "errors", json_array());
    json_object_set_new(o, "warnings", json_array());
    json_object_set_new(o, "acs_user_ids", json_array());
    return o;
}

json_t *render_noise_threshold(const store_noise_threshold *nt)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:f}", "noise_threshold_id", nt->noise_threshold_id,
                          "device_id", nt->device_id, "name", nt->name, "starts_daily_at",
                          nt->starts_daily_at, "ends_daily_at", nt->ends_daily_at,
                          "noise_threshold_decibels", nt->noise_threshold_decibels);
    if (nt->noise_threshold_nrs >= 0)
        json_object_set_new(o, "noise_threshold_nrs", json_real(nt->noise_threshold_nrs));
    return o;
}

json_t *render_device_provider(const provider *p)
{
    bool lock = p->category == DEVICE_LOCK;
    char image[512];
    snprintf(image, sizeof image,
             "data:image/svg+xml,%%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%%3E"
             "%%3Crect width='64' height='64' rx='12' fill='%%231d4ed8'/%%3E"
             "%%3Ctext x='32' y='42' font-size='32' text-anchor='middle' fill='white'"
             " font-family='sans-serif'%%3E%c%%3C/text%%3E%%3C/svg%%3E",
             p->display_name[0] >= 'a' && p->display_name[0] <= 'z' ? p->display_name[0] - 32
                                                                    : p->display_name[0]);
    return json_pack("{s:s,s:s,s:s,s:[s,s],s:b,s:b}", "device_provider_name", p->name,
                     "display_name", p->display_name, "image_url", image,
                     "provider_categories", "stable", lock ? "consumer_smartlocks" : "thermostats",
                     "can_remotely_lock", lock, "can_remotely_unlock", lock);
}
