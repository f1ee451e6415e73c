/* devices/get, list, update, delete and list_device_providers, and
 * devices/unmanaged/get, list and update, always within the caller's scope:
 * a client session token sees the devices of its session's connected
 * accounts, and user_identifier_key narrows any caller to that user's
 * session. devices/update with is_managed false makes a device unmanaged:
 * out of every route but the devices/unmanaged ones, until
 * devices/unmanaged/update with is_managed true makes it managed again. */
#include <inttypes.h>
#include <string.h>

#include "api/devices.h"
#include "api/listing.h"
#include "api/metadata.h"
#include "api/render.h"
#include "core/device_types.h"
#include "providers/provider.h"

/* A device of `kind` by device_id or name, answered as {device}. */
static err get_device(api_call *c, store_device_kind kind, json_t *(*render)(const store_device *))
{
    const char *device_id, *name;
    param_either(c->p, "device_id", &device_id, "name", &name);
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_device d;
    e = store_device_find(c->srv->store, c->a, &scope, kind, device_id, name, false, &d);
    if (err_failed(e))
        return e;
    c->out = json_pack("{s:o}", "device", render(&d));
    return ERR_NONE;
}

err devices_get(api_call *c) { return get_device(c, STORE_DEVICE_MANAGED, render_device); }

err devices_unmanaged_get(api_call *c)
{
    return get_device(c, STORE_DEVICE_UNMANAGED, render_unmanaged_device);
}

static void check_device_types(api_call *c, const char *key, const str_list *types)
{
    for (size_t i = 0; i < types->count; i++)
        if (!device_type_is_known(types->items[i]))
            param_reject(c->p, key, arena_sprintf(c->a, "Unknown device type '%s'",
                                                  types->items[i]));
}

/* include_if / exclude_if: the OpenAPI's capability flags. */
static void check_flags(api_call *c, const char *key, const str_list *flags)
{
    static const char *const FLAGS[] = {
        "can_remotely_unlock", "can_remotely_lock", "can_program_offline_access_codes",
        "can_program_online_access_codes", "can_hvac_heat", "can_hvac_cool", "can_hvac_heat_cool",
        "can_turn_off_hvac", "can_simulate_removal", "can_simulate_connection",
        "can_simulate_disconnection", "can_unlock_with_code", "can_run_thermostat_programs",
        "can_program_thermostat_programs_as_weekday_weekend",
        "can_program_thermostat_programs_as_different_each_day",
        "can_program_thermostat_programs_as_same_each_day", "can_simulate_hub_connection",
        "can_simulate_hub_disconnection", "can_simulate_paid_subscription",
        "can_configure_auto_lock"};
    for (size_t i = 0; i < flags->count; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof FLAGS / sizeof *FLAGS && !known; j++)
            known = strcmp(flags->items[i], FLAGS[j]) == 0;
        if (!known)
            param_reject(c->p, key, arena_sprintf(c->a, "Unknown capability '%s'", flags->items[i]));
    }
}

/* The filters devices/list, locks/list and devices/unmanaged/list share,
 * into f and the listing; types_within narrows device types to a
 * category's (locks). */
static void read_device_filters(api_call *c, listing *l, store_device_filter *f,
                                const char **uik, const str_list *types_within)
{
    str_list *device_ids = arena_zalloc(c->a, sizeof *device_ids);
    str_list *account_ids = arena_zalloc(c->a, sizeof *account_ids);
    str_list *types = arena_zalloc(c->a, sizeof *types);
    const char *account_id = NULL, *type = NULL;
    bool has_ids = param_str_list(c->p, "device_ids", device_ids);
    bool has_accounts = param_str_list(c->p, "connected_account_ids", account_ids);
    bool has_types = param_str_list(c->p, "device_types", types);
    param_nonempty_str(c->p, "connected_account_id", &account_id);
    param_nonempty_str(c->p, "device_type", &type);
    param_nonempty_str(c->p, "manufacturer", &f->manufacturer);
    param_nonempty_str(c->p, "user_identifier_key", uik);
    param_nonempty_str(c->p, "connect_webview_id", &f->connect_webview_id);
    param_nonempty_str(c->p, "search", &f->search);
    param_time(c->p, "created_before", &f->created_before);
    f->metadata = metadata_filter_read(c, "custom_metadata_has");
    if (param_str(c->p, "customer_key", &f->customer_key))
        page_filters_add(&l->filters, "customer_key", f->customer_key);
    static const char *const ABSENT[] = {"space_id", "unstable_location_id", NULL};
    f->none = param_names_absent_resource(c->p, ABSENT);
    str_list *include = arena_zalloc(c->a, sizeof *include);
    str_list *exclude = arena_zalloc(c->a, sizeof *exclude);
    if (param_str_list(c->p, "include_if", include)) {
        check_flags(c, "include_if", include);
        f->include_if = include;
        page_filters_add_list(&l->filters, "include_if", include);
    }
    if (param_str_list(c->p, "exclude_if", exclude)) {
        check_flags(c, "exclude_if", exclude);
        f->exclude_if = exclude;
        page_filters_add_list(&l->filters, "exclude_if", exclude);
    }
    if (has_types)
        check_device_types(c, "device_types", types);
    if (type && !device_type_is_known(type))
        param_reject(c->p, "device_type", arena_sprintf(c->a, "Unknown device type '%s'", type));

    page_filters *pf = &l->filters;
    if (has_ids)
        page_filters_add_list(pf, "device_ids", device_ids);
    if (has_accounts)
        page_filters_add_list(pf, "connected_account_ids", account_ids);
    if (has_types)
        page_filters_add_list(pf, "device_types", types);
    const struct {
        const char *key, *value;
    } singles[] = {{"connected_account_id", account_id}, {"device_type", type},
                   {"manufacturer", f->manufacturer},    {"user_identifier_key", *uik},
                   {"connect_webview_id", f->connect_webview_id}, {"search", f->search}};
    for (size_t i = 0; i < sizeof singles / sizeof *singles; i++)
        if (singles[i].value)
            page_filters_add(pf, singles[i].key, singles[i].value);
    if (f->created_before)
        page_filters_add(pf, "created_before", arena_sprintf(c->a, "%lld", (long long)f->created_before));
    listing_add_metadata(l, c, f->metadata);

    f->device_ids = has_ids ? device_ids : NULL;
    f->connected_account_ids = filter_values(c->a, account_id, has_accounts ? account_ids : NULL);
    f->device_types = filter_values(c->a, type, has_types ? types : NULL);
    if (types_within)
        f->device_types = f->device_types ? str_list_intersect(c->a, f->device_types, types_within)
                                          : types_within;
}

static json_t *render_device_row(api_call *c, const void *row)
{
    (void)c;
    return render_device(row);
}

static json_t *render_unmanaged_row(api_call *c, const void *row)
{
    (void)c;
    return render_unmanaged_device(row);
}

/* Devices of f's kind with the filters read, under `key`. */
static err list_of_kind(api_call *c, const char *key, const str_list *types_within,
                        store_device_filter *f, row_renderer render)
{
    listing l;
    listing_init(&l, c);
    const char *uik = NULL;
    read_device_filters(c, &l, f, &uik, types_within);
    store_scope scope = api_scope(c, uik);
    store_page sp;
    err e = listing_begin(&l, c, &scope, &sp);
    if (err_failed(e))
        return e;
    store_device *rows = NULL;
    size_t n = 0;
    e = store_device_list(c->srv->store, c->a, &scope, f, &sp, &rows, &n);
    return err_failed(e) ? e : listing_respond(&l, c, key, rows, n, sizeof *rows, render);
}

/* devices/list, and locks/list with the lock types. */
err list_devices(api_call *c, const char *key, const str_list *types_within)
{
    store_device_filter f = {.kind = STORE_DEVICE_MANAGED};
    return list_of_kind(c, key, types_within, &f, render_device_row);
}

err devices_list(api_call *c) { return list_devices(c, "devices", NULL); }

err devices_unmanaged_list(api_call *c)
{
    store_device_filter f = {.kind = STORE_DEVICE_UNMANAGED};
    return list_of_kind(c, "devices", NULL, &f, render_unmanaged_row);
}

err find_device_of(api_call *c, device_category category, const char *device_id,
                   const char *name, store_device *d)
{
    store_scope scope = api_scope(c, NULL);
    err e = store_device_get(c->srv->store, c->a, &scope, device_id, name, false, d);
    if (!err_failed(e) && device_type_category(d->device_type) != category)
        /* the store's answer for a device out of scope */
        e = err_make(ERR_NOT_FOUND, "device_not_found", "Device not found.");
    return e;
}

err get_device_of(api_call *c, device_category category, const char *key)
{
    const char *device_id, *name;
    param_either(c->p, "device_id", &device_id, "name", &name);
    err e = params_check(c->p);
    store_device d;
    if (err_failed(e) || err_failed(e = find_device_of(c, category, device_id, name, &d)))
        return e;
    c->out = json_pack("{s:o}", key, render_device(&d));
    return ERR_NONE;
}

err list_devices_of(api_call *c, device_category category, const char *key)
{
    size_t n = device_types_count();
    const char **types = arena_alloc(c->a, n * sizeof *types);
    str_list within = {types, 0};
    for (size_t i = 0; i < n; i++)
        if (device_type_category(device_type_at(i)) == category)
            types[within.count++] = device_type_at(i);
    err e = list_devices(c, key, &within);
    if (!err_failed(e))
        json_object_set(c->out, "devices", json_object_get(c->out, key));
    return e;
}

/* devices/update or devices/unmanaged/update of one device. */
typedef struct device_change {
    store_scope scope;
    const char *id, *name;
    store_device_kind kind; /* the devices it is one of: managed, or unmanaged */
    bool convert;           /* it becomes the other kind */
    bool switch_pool;       /* backup_access_code_pool_enabled given: */
    bool pool;              /* ... on or off */
    store_device read;      /* as it was */
} device_change;

static err read_device_metadata(api_call *c, store *s, void *obj, const char **stored)
{
    device_change *ch = obj;
    err e = store_device_find(s, c->a, &ch->scope, ch->kind, ch->id, NULL, true, &ch->read);
    if (!err_failed(e))
        *stored = ch->read.custom_metadata;
    return e;
}

/* The changes, and the conversion with its event. */
static err write_device(api_call *c, store *s, void *obj, const char *merged)
{
    (void)c;
    device_change *ch = obj;
    err e = store_device_update(s, &ch->scope, ch->id, ch->name, merged);
    if (err_failed(e) || !ch->convert)
        return e;
    bool managed = ch->kind == STORE_DEVICE_UNMANAGED;
    e = store_device_set_managed(s, &ch->scope, ch->id, managed);
    if (!err_failed(e))
        e = store_event_record(s, (store_event){.workspace_id = ch->read.workspace_id,
                                                .event_type = managed
                                                    ? "device.unmanaged.converted_to_managed"
                                                    : "device.converted_to_unmanaged",
                                                .device_id = ch->id,
                                                .connected_account_id =
                                                    ch->read.connected_account_id});
    return e;
}

/* Reads device_id and custom_metadata, and applies them with what ch has. */
static err change_device(api_call *c, device_change *ch)
{
    ch->id = param_required_str(c->p, "device_id");
    json_t *metadata = NULL;
    metadata_read(c, "custom_metadata", true, &metadata);
    err e = params_check(c->p);
    if (!err_failed(e) && ch->switch_pool)
        e = access_codes_switch_backup_pool(c, ch->id, ch->pool);
    if (!err_failed(e)) {
        ch->scope = api_scope(c, NULL);
        e = metadata_update(c, metadata,
                            &(metadata_target){read_device_metadata, write_device, ch});
    }
    json_decref(metadata);
    return e;
}

err devices_update(api_call *c)
{
    device_change ch = {.kind = STORE_DEVICE_MANAGED};
    bool managed = true;
    if (param_bool(c->p, "is_managed", &managed))
        ch.convert = !managed; /* true: it is managed already */
    ch.switch_pool = param_bool(c->p, "backup_access_code_pool_enabled", &ch.pool);
    if (param_null(c->p, "name"))
        ch.name = ""; /* back to the provider's name */
    else
        param_str(c->p, "name", &ch.name);
    /* properties.name: the same, the way the OpenAPI also documents it. */
    json_t *properties = NULL;
    if (param_object(c->p, "properties", &properties)) {
        json_t *name = json_object_get(properties, "name");
        const char *key;
        json_t *v;
        json_object_foreach(properties, key, v) {
            if (strcmp(key, "name") != 0)
                param_reject(c->p, "properties", arena_sprintf(c->a, "Unrecognized key '%s'", key));
        }
        if (ch.name && name)
            param_reject(c->p, "properties", "Give the name once: name or properties.name");
        else if (json_is_null(name))
            ch.name = "";
        else if (json_is_string(name) && json_string_length(name) <= PARAM_MAX_TEXT)
            ch.name = arena_strdup(c->a, json_string_value(name));
        else if (name)
            param_reject(c->p, "properties", "properties.name: expected a string of at most 255 characters, or null");
        json_decref(properties);
    }
    return change_device(c, &ch);
}

err devices_unmanaged_update(api_call *c)
{
    device_change ch = {.kind = STORE_DEVICE_UNMANAGED};
    if (param_bool(c->p, "is_managed", &ch.convert) && !ch.convert)
        param_reject(c->p, "is_managed", "Only true (it makes the device managed) is accepted");
    return change_device(c, &ch);
}

err devices_delete(api_call *c)
{
    const char *id = param_required_str(c->p, "device_id");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    store_scope scope = api_scope(c, NULL);
    store_device d; /* for the event's account */
    if (err_failed(e = store_device_get(c->srv->store, c->a, &scope, id, NULL, false, &d)))
        return e;
    store_event ev = {.workspace_id = d.workspace_id, .event_type = "device.deleted",
                      .device_id = d.device_id, .connected_account_id = d.connected_account_id};
    return store_device_delete(c->srv->store, &scope, id, &ev);
}

err devices_list_device_providers(api_call *c)
{
    const char *category = NULL;
    if (param_nonempty_str(c->p, "provider_category", &category) && !provider_category_known(category))
        param_reject(c->p, "provider_category", "Unknown provider category");
    err e = params_check(c->p);
    if (err_failed(e))
        return e;
    size_t n;
    const provider *const *all = providers_all(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        /* Seam's catalogue names no self-hosted systems (its schema's enum):
         * the live providers are offered in connect webviews only. */
        if (!all[i]->live && (!category || provider_in_category(all[i], category)))
            json_array_append_new(arr, render_device_provider(all[i]));
    c->out = json_pack("{s:o}", "device_providers", arr);
    return ERR_NONE;
}
