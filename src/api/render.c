/* Rendering of workspaces, client sessions and devices (render.h). */
#include "api/render.h"

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

/* An opaque serialized object from the store, or a new empty object. */
static json_t *stored_object(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

static json_t *capabilities(device_category cat, bool has_battery)
{
    json_t *caps = json_array();
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

static json_t *device_properties(const store_device *d, device_category cat)
{
    json_t *p = stored_object(d->extra_properties);
    json_object_set_new(p, "online", json_boolean(d->online));
    json_object_set_new(p, "name", json_string(d->name));
    json_object_set_new(p, "appearance", json_pack("{s:s}", "name", d->name));
    if (d->manufacturer)
        json_object_set_new(p, "manufacturer", json_string(d->manufacturer));
    const char *maker = d->manufacturer ? manufacturer_display_name(d->manufacturer) : "Unknown";
    json_object_set_new(p, "model", json_pack("{s:s,s:s}", "display_name",
                                              d->model ? d->model : d->name,
                                              "manufacturer_display_name", maker));
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
    return p;
}

json_t *render_device(const store_device *d)
{
    device_category cat = device_type_category(d->device_type);
    json_t *o = json_object();
    json_object_set_new(o, "device_id", json_string(d->device_id));
    json_object_set_new(o, "device_type", json_string(d->device_type));
    json_object_set_new(o, "workspace_id", json_string(d->workspace_id));
    json_object_set_new(o, "connected_account_id", json_string(d->connected_account_id));
    json_object_set_new(o, "display_name", json_string(d->nickname ? d->nickname : d->name));
    if (d->nickname)
        json_object_set_new(o, "nickname", json_string(d->nickname));
    json_object_set_new(o, "created_at", render_time(d->created_at));
    json_object_set_new(o, "space_ids", json_array());
    json_object_set_new(o, "capabilities_supported", capabilities(cat, d->battery_level >= 0));
    json_object_set_new(o, "properties", device_properties(d, cat));
    json_object_set_new(o, "errors", json_array());
    json_object_set_new(o, "warnings", json_array());
    json_object_set_new(o, "is_managed", json_true());
    json_object_set_new(o, "custom_metadata", stored_object(d->custom_metadata));
    if (cat == DEVICE_LOCK) {
        json_object_set_new(o, "can_remotely_lock", json_boolean(d->can_remotely_lock));
        json_object_set_new(o, "can_remotely_unlock", json_boolean(d->can_remotely_unlock));
    }
    return o;
}
