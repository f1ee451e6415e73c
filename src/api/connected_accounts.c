/* connected_accounts/get (scoped), list, update and delete (API key).
 * Deleting an account removes its devices and takes it out of every
 * client session. */
#include "api/capabilities.h"
#include "api/listing.h"
#include "api/metadata.h"
#include "api/render.h"
#include "providers/provider.h"

static err find_account(api_call *c, const char *id, const char *email,
                        store_connected_account *ca)
{
    store_scope scope = api_scope(c, NULL);
    return store_connected_account_get(c->srv->store, c->a, &scope, id, email, false, ca);
}

/* The account as the API shows it, its type named by its provider. */
static json_t *render_account_row(api_call *c, const void *row)
{
    (void)c;
    const store_connected_account *ca = row;
    return render_connected_account(ca, provider_find(ca->provider));
}

static err respond_account(api_call *c, const char *id)
{
    store_connected_account ca;
    err e = find_account(c, id, NULL, &ca);
    if (!err_failed(e))
        c->out = json_pack("{s:o}", "connected_account", render_account_row(c, &ca));
    return e;
}

err connected_accounts_get(api_call *c)
{
    const char *id, *email;
    param_either(c->p, "connected_account_id", &id, "email", &email);
    err e = params_check(c->p);
    store_connected_account ca;
    if (err_failed(e) || err_failed(e = find_account(c, id, email, &ca)))
        return e;
    c->out = json_pack("{s:o}", "connected_account", render_account_row(c, &ca));
    return ERR_NONE;
}

static err fetch_accounts(api_call *c, const store_scope *scope, const store_list_filter *f,
                          const store_page *page, void **rows, size_t *n)
{
    store_connected_account *list = NULL;
    err e = store_connected_account_list(c->srv->store, c->a, scope, f, page, &list, n);
    *rows = list;
    return e;
}

err connected_accounts_list(api_call *c)
{
    static const char *const ABSENT[] = {"space_id", NULL};
    return listing_by_user_and_metadata(c, "connected_accounts", fetch_accounts, ABSENT,
                                        sizeof(store_connected_account), render_account_row);
}

typedef struct account_change {
    store_scope scope;
    const char *id, *display_name, *customer_key, *capabilities;
} account_change;

static err read_account_metadata(api_call *c, store *s, void *obj, const char **stored)
{
    account_change *ch = obj;
    store_connected_account ca;
    err e = store_connected_account_get(s, c->a, &ch->scope, ch->id, NULL, true, &ca);
    if (!err_failed(e))
        *stored = ca.custom_metadata;
    return e;
}

static err write_account(api_call *c, store *s, void *obj, const char *merged)
{
    account_change *ch = obj;
    err e = store_connected_account_update(s, &ch->scope, ch->id, ch->display_name, merged,
                                           ch->capabilities);
    if (!err_failed(e) && ch->customer_key &&
        store_not_found(e = store_connected_account_set_customer(s, ch->id, ch->customer_key))) {
        /* In scope (the update found it): it has a customer already. */
        param_reject(c->p, "customer_key",
                     "The connected account already belongs to a customer");
        e = params_check(c->p);
    }
    return e;
}

err connected_accounts_update(api_call *c)
{
    account_change ch = {.id = param_required_str(c->p, "connected_account_id")};
    json_t *metadata = NULL;
    param_nonempty_str(c->p, "display_name", &ch.display_name);
    param_nonempty_str(c->p, "customer_key", &ch.customer_key);
    ch.capabilities = capabilities_read(c, "accepted_capabilities");
    bool manage;
    if (param_bool(c->p, "automatically_manage_new_devices", &manage) && !manage)
        param_reject(c->p, "automatically_manage_new_devices",
                     "latchkey manages every device it connects: only true is supported");
    metadata_read(c, "custom_metadata", true, &metadata);
    err e = params_check(c->p);
    if (!err_failed(e)) {
        ch.scope = api_scope(c, NULL);
        e = metadata_update(c, metadata,
                            &(metadata_target){read_account_metadata, write_account, &ch});
    }
    json_decref(metadata);
    return err_failed(e) ? e : respond_account(c, ch.id);
}

typedef struct account_removal {
    api_call *c;
    store_scope scope; /* the caller's */
    const store_connected_account *ca;
} account_removal;

/* Events for each of the account's devices (managed or not) and for the
 * account, then the deletion with its own event. */
static err remove_account(store *s, void *ctx)
{
    const account_removal *r = ctx;
    api_call *c = r->c;
    const store_connected_account *ca = r->ca;
    store_scope scope = {.workspace_id = ca->workspace_id};
    str_list accounts = {&ca->connected_account_id, 1};
    store_device_filter f = {.connected_account_ids = &accounts, .kind = STORE_DEVICE_ANY};
    store_page page = {.after_seq = 0, .limit = (size_t)-1 / 2};
    store_device *devices = NULL;
    size_t n = 0;
    err e = store_device_list(s, c->a, &scope, &f, &page, &devices, &n);
    store_event ev = {.workspace_id = ca->workspace_id,
                      .connected_account_id = ca->connected_account_id};
    for (size_t i = 0; i < n && !err_failed(e); i++) {
        store_event removed = ev;
        removed.event_type = "device.removed";
        removed.device_id = devices[i].device_id;
        e = store_event_record(s, removed);
    }
    if (!err_failed(e)) {
        ev.event_type = "connected_account.disconnected";
        e = store_event_record(s, ev);
    }
    if (!err_failed(e)) {
        ev.event_type = "connected_account.deleted";
        e = store_connected_account_delete(s, &r->scope, ca->connected_account_id, &ev);
    }
    return e;
}

err connected_accounts_delete(api_call *c)
{
    const char *id = param_required_str(c->p, "connected_account_id");
    bool sync = false;
    param_bool(c->p, "sync", &sync); /* deletion is always immediate */
    err e = params_check(c->p);
    store_connected_account ca;
    if (err_failed(e) || err_failed(e = find_account(c, id, NULL, &ca)))
        return e;
    account_removal r = {c, api_scope(c, NULL), &ca};
    return store_transaction(c->srv->store, remove_account, &r);
}
