/* Connecting accounts and their devices (accounts.h). */
#include "jobs/accounts.h"

#include <string.h>

#include "core/code_rules.h"
#include "core/ids.h"

err accounts_device(store *s, arena *a, const provider *p, const store_event *ev,
                    const provider_device *pd, bool listed, int64_t now)
{
    char *id = arena_alloc(a, UUID_STR_LEN);
    uuid_v4(id);
    const char *type = pd->device_type ? pd->device_type : p->device_type;
    /* Sandbox locks take access codes, with their type's rules. */
    const char *extra = pd->extra_properties ? pd->extra_properties
                        : p->live             ? NULL
                                              : code_rules_sandbox_properties(type);
    store_device d = {.device_id = id, .workspace_id = ev->workspace_id,
                      .connected_account_id = ev->connected_account_id,
                      .device_type = type,
                      .manufacturer = pd->manufacturer ? pd->manufacturer : p->manufacturer,
                      .name = pd->name, .model = pd->model, .online = pd->online,
                      .locked = pd->locked, .battery_level = pd->battery_level,
                      .can_remotely_lock = pd->can_remotely_lock,
                      .can_remotely_unlock = pd->can_remotely_unlock,
                      .provider_device_key = pd->key,
                      .extra_properties = extra, .created_at = now,
                      .offline_at = pd->online ? 0 : now};
    bool created = false;
    err e = listed ? store_device_upsert_listed(s, a, &d, &created)
                   : store_device_upsert(s, a, &d, &created);
    if (err_failed(e) || !created)
        return e;
    store_event dev = *ev;
    dev.event_type = "device.connected";
    dev.device_id = d.device_id;
    return store_event_record(s, dev);
}

err accounts_connect(store *s, arena *a, account_connection *cn)
{
    store_connect_webview *cw = cn->cw;
    char *account_id = arena_alloc(a, UUID_STR_LEN);
    uuid_v4(account_id);
    bool live = cn->settings_sealed != NULL;
    store_connected_account ca = {.connected_account_id = account_id,
                                  .workspace_id = cw->workspace_id,
                                  .provider = cn->p->name,
                                  .user_email = live ? NULL : cn->account->login,
                                  .provider_login = cn->account->login,
                                  .settings_sealed = cn->settings_sealed,
                                  .customer_key = cw->customer_key,
                                  .accepted_capabilities = cw->accepted_capabilities,
                                  .created_at = cn->now};
    bool account_created = false;
    err e = store_connected_account_connect(s, a, &ca, &account_created);
    if (!err_failed(e) && cw->customer_key && !account_created) {
        /* The account joins the webview's customer, unless it has another. */
        if (ca.customer_key && strcmp(ca.customer_key, cw->customer_key) != 0) {
            cw->status = "failed";
            cw->error = "account_already_belongs_to_another_customer";
            return store_connect_webview_update(s, cw);
        }
        if (!ca.customer_key)
            e = store_connected_account_set_customer(s, ca.connected_account_id, cw->customer_key);
    }
    if (!err_failed(e) && live && !account_created) /* new settings (a new password) */
        e = store_connected_account_set_settings(s, ca.connected_account_id, cn->settings_sealed);
    if (!err_failed(e) && live)
        e = store_provider_link_add(s, ca.connected_account_id);
    store_event ev = {.workspace_id = cw->workspace_id,
                      .connected_account_id = ca.connected_account_id,
                      .connect_webview_id = cw->connect_webview_id};
    for (size_t i = 0; i < cn->account->device_count && !err_failed(e); i++)
        e = accounts_device(s, a, cn->p, &ev, &cn->account->devices[i], live, cn->now);
    const char *types[] = {account_created ? "connected_account.created" : NULL,
                           "connected_account.connected"};
    for (size_t i = 0; i < 2 && !err_failed(e); i++) {
        if (!types[i])
            continue;
        ev.event_type = types[i];
        e = store_event_record(s, ev);
    }
    if (err_failed(e))
        return e;
    cw->status = "authorized";
    cw->connected_account_id = ca.connected_account_id;
    cw->selected_provider = cn->p->name;
    cw->login_successful = true;
    cw->authorized_at = cn->now;
    cw->error = NULL;
    /* Not found when another tab ended the webview while this one was
     * connecting: everything above rolls back with it. */
    return store_connect_webview_update(s, cw);
}
